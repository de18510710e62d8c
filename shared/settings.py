"""Every setting the services read, in one place, read once at start-up.

Logic never reads `os.environ`: a service calls `load_settings()` in its `__main__`
and passes values down. A bad value stops start-up with a message that names the
variable and what it accepts, instead of failing later inside a job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

QUALITIES = ("low", "medium", "high", "ultra")
STORAGE_MODES = ("local_only", "s3_only", "local_and_s3")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected one of true/false, 1/0, yes/no, on/off")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("expected an integer >= 1")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("expected a number > 0")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return parse


def _api_keys(raw: str) -> dict[str, str]:
    """`key1:alice,key2:bob` → {key: user}."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, user = item.partition(":")
        if not sep or not key or not user:
            raise ValueError("expected comma-separated key:user pairs, e.g. key1:alice,key2:bob")
        keys[key] = user
    return keys


def _env(name: str, parse: Callable[[str], Any] = str, **options: Any) -> Any:
    """Dataclass field metadata: which variable feeds a setting and how to parse it."""
    return field(metadata={"env": name, "parse": parse}, **options)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated configuration of one process. See the README's settings table."""

    # Models (requirement 6.1). `builtin` is the offline model.
    planner_model: str = _env("PLANNER_MODEL", default="builtin")
    scene_model: str = _env("SCENE_MODEL", default="builtin")
    helper_model: str = _env("HELPER_MODEL", default="builtin")
    use_rag: bool = _env("USE_RAG", _bool, default=False)
    # Concurrency and quality (requirement 6.3-6.6).
    max_scene_concurrency: int = _env("MAX_SCENE_CONCURRENCY", _positive_int, default=3)
    max_concurrent_renders: int = _env("MAX_CONCURRENT_RENDERS", _positive_int, default=2)
    default_quality: str = _env("DEFAULT_QUALITY", _choice(*QUALITIES), default="medium")
    use_gpu_acceleration: bool = _env("USE_GPU_ACCELERATION", _bool, default=False)
    max_fix_attempts: int = _env("MAX_FIX_ATTEMPTS", _positive_int, default=3)
    render_timeout_seconds: float = _env("RENDER_TIMEOUT_SECONDS", _positive_float, default=600.0)
    # Bus.
    nats_url: str = _env("NATS_URL", default="nats://127.0.0.1:4222")
    ack_wait_seconds: float = _env("ACK_WAIT_SECONDS", _positive_float, default=30.0)
    max_deliver: int = _env("MAX_DELIVER", _positive_int, default=5)
    event_retention_days: float = _env("EVENT_RETENTION_DAYS", _positive_float, default=7.0)
    # Storage.
    data_dir: Path = _env("DATA_DIR", Path, default=Path("var"))
    video_storage_mode: str = _env(
        "VIDEO_STORAGE_MODE", _choice(*STORAGE_MODES), default="local_only"
    )
    # Gateway.
    api_keys: dict[str, str] = _env("API_KEYS", _api_keys, default_factory=dict)
    gateway_host: str = _env("GATEWAY_HOST", default="127.0.0.1")
    gateway_port: int = _env("GATEWAY_PORT", _positive_int, default=8000)
    max_request_bytes: int = _env("MAX_REQUEST_BYTES", _positive_int, default=65536)
    # Logging.
    debug: bool = _env("DEBUG", _bool, default=False)

    @property
    def single_user_mode(self) -> bool:
        """No API keys configured: every request is user `local`."""
        return not self.api_keys

    @property
    def storage_dir(self) -> Path:
        """Root of local video storage; keys start with `videos/`."""
        return self.data_dir


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read and validate every setting; raise `SettingsError` naming each bad variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in fields(Settings):
        name = spec.metadata["env"]
        if spec.name in overrides:
            values[spec.name] = overrides.pop(spec.name)
        elif name in environ:
            try:
                values[spec.name] = spec.metadata["parse"](environ[name])
            except ValueError as exc:
                problems.append(f"{name}={environ[name]!r}: {exc}")
    if overrides:
        raise TypeError(f"unknown settings: {', '.join(overrides)}")
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return Settings(**values)


def environment_table() -> list[tuple[str, str]]:
    """(variable, default) for every setting, for the README and manifests checks."""
    defaults = Settings()
    return [(spec.metadata["env"], repr(getattr(defaults, spec.name))) for spec in fields(Settings)]
