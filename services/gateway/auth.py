"""Who is calling: a Bearer API key from the settings, or user `local` when none are set."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from services.gateway.errors import ApiError

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
