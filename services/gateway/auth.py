"""Who is calling: a Bearer API key from the settings, or user `local` when none are set."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

from services.gateway.errors import ApiError
from shared.settings import Settings, SettingsError

LOCAL_USER = "local"


def authenticate(api_keys: Mapping[str, str], presented: str | None) -> str:
    """The user id a request acts as; raises a 401 `ApiError` for a missing or wrong key.

    Every configured key is compared in constant time, so timing reveals neither which
    keys exist nor how much of one was right.
    """
    if not api_keys:
        return LOCAL_USER
    if not presented:
        raise _unauthorized("Missing Bearer API key")
    user = None
    for key, owner in api_keys.items():
        if hmac.compare_digest(key.encode(), presented.encode()):
            user = owner
    if user is None:
        raise _unauthorized("Invalid API key")
    return user


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": "Bearer"})


def check_exposure(settings: Settings) -> None:
    """Refuse to serve everyone as user `local` on an address others can reach.

    Single-user mode is for a laptop; on a non-loopback address it would hand every
    job, video and key-less request of anyone on the network to one shared identity.
    """
    if settings.api_keys or settings.allow_anonymous or is_loopback(settings.gateway_host):
        return
    raise SettingsError(
        f"GATEWAY_HOST={settings.gateway_host} is reachable beyond this machine and no "
        "API_KEYS are set: set API_KEYS (e.g. key1:alice), bind GATEWAY_HOST=127.0.0.1, "
        "or set ALLOW_ANONYMOUS=true to serve everyone as user 'local'"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
