"""Every setting the services read, in one place, read once at start-up.

Logic never reads `os.environ`: a service calls `load_settings()` in its `__main__`
and passes values down. A bad value stops start-up with a message that names the
variable and what it accepts, instead of failing later inside a job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared import redact

QUALITIES = ("low", "medium", "high", "ultra")
STORAGE_MODES = ("local_only", "s3_only", "local_and_s3")
SERVICES = ("planner", "narrator", "coder", "renderer", "storage", "gateway")
# Who gets a scoped variable (`services=` below); every other setting goes to every service.
LLM_CALLERS = ("planner", "narrator", "coder")  # the narrator: openai/<model> speech
STORERS = ("gateway", "storage")
GATEWAY = ("gateway",)
# Variables of the OS and toolchain a service process needs besides its settings.
PROCESS_VARIABLES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TERM",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "LD_LIBRARY_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)
PROCESS_PREFIXES = ("LC_", "XDG_")
TTS_ENGINES = ("builtin", "piper", "espeak-ng", "none")
# RENDERER: one Manim renderer for every scene, or `auto` (services/renderer/choice.py).
RENDERER_MODES = ("auto", "cairo", "opengl")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected one of true/false, 1/0, yes/no, on/off")


def _int_in(low: int, high: int | None = None, *, expected: str) -> Callable[[str], int]:
    """A parser of integers from `low` to `high` (no upper bound when None)."""

    def parse(raw: str) -> int:
        value = int(raw)
        if value < low or (high is not None and value > high):
            raise ValueError(f"expected {expected}")
        return value

    return parse


_positive_int = _int_in(1, expected="an integer >= 1")
_non_negative_int = _int_in(0, expected="an integer >= 0")
_port_or_off = _int_in(0, 65535, expected="a port number 1-65535, or 0 for off")


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("expected a number > 0")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("expected a number >= 0")
    return value


def _seconds_list(raw: str) -> tuple[float, ...]:
    """`5,300,1800` → (5.0, 300.0, 1800.0): waits between retries."""
    values = tuple(float(part) for part in raw.split(",") if part.strip())
    if not values or any(value <= 0 for value in values):
        raise ValueError("expected comma-separated numbers of seconds > 0, e.g. 5,300,1800")
    return values


def _endpoint(raw: str) -> str:
    """An S3 endpoint URL; its scheme decides TLS (http: plain, https: TLS)."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
        raise ValueError("expected http(s)://host[:port] with no path, e.g. http://127.0.0.1:9000")
    return value


def _bucket(raw: str) -> str:
    value = raw.strip()
    if value and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
        raise ValueError("expected an S3 bucket name: 3-63 of a-z, 0-9, '.', '-'")
    return value


class Secret:
    """A credential that never shows up in a repr, a log line or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


def _tts_model(raw: str) -> str:
    """`builtin`, `piper`, `espeak-ng`, `none` or `openai/<model>`."""
    value = raw.strip()
    if value.lower() in TTS_ENGINES:
        return value.lower()
    provider, sep, model = value.partition("/")
    if provider == "openai" and sep and model:
        return value
    raise ValueError(f"expected one of {', '.join(TTS_ENGINES)} or openai/<model>")


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


def _names(raw: str) -> tuple[str, ...]:
    """`a,b` → ("a", "b")."""
    return tuple(filter(None, (part.strip() for part in raw.split(","))))


def _nats_urls(raw: str) -> str:
    """One server or a comma-separated list, as the NATS tools take them."""
    servers = [part.strip() for part in raw.split(",") if part.strip()]
    for server in servers:
        parts = urlsplit(server if "://" in server else f"nats://{server}")
        if parts.scheme not in ("nats", "tls", "ws", "wss") or not parts.hostname:
            raise ValueError("expected nats://host:port, or a comma-separated list of them")
        if parts.username or parts.password:
            raise ValueError("put credentials in NATS_USER and NATS_PASSWORD, not in the URL")
    if not servers:
        raise ValueError("expected at least one server, e.g. nats://127.0.0.1:4222")
    return ",".join(servers)


_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 2**10,
    "KB": 2**10,
    "M": 2**20,
    "MB": 2**20,
    "G": 2**30,
    "GB": 2**30,
    "T": 2**40,
    "TB": 2**40,
}


def _size(raw: str) -> int:
    """`10GB`, `512MB`, `1T` or bytes → bytes (binary units, as nats-server reads them)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", raw)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _SIZE_UNITS or float(match.group(1)) <= 0:
        raise ValueError("expected a size such as 10GB, 512MB or 1TB")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _provider_model_or_off(raw: str) -> str:
    value = raw.strip()
    provider, sep, model = value.partition("/")
    if value and not (sep and provider and model):
        raise ValueError("expected provider/model (e.g. openai/gpt-4o-mini) or empty for off")
    return value


def _env(
    name: str,
    parse: Callable[[str], Any] = str,
    *,
    services: tuple[str, ...] = SERVICES,
    **options: Any,
) -> Any:
    """Dataclass field metadata: which variable feeds a setting, how to parse it, and
    which services get it (`videogen up`, compose and k8s follow this)."""
    return field(metadata={"env": name, "parse": parse, "services": services}, **options)


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
    # Fair rendering (services/renderer/fairness.py): one user's running renders per replica,
    # and scene events a replica takes beyond its slots to wait for their user's turn.
    max_renders_per_user: int = _env("MAX_RENDERS_PER_USER", _positive_int, default=1)
    render_lookahead: int = _env("RENDER_LOOKAHEAD", _non_negative_int, default=8)
    # Slicing (services/renderer/slices.py): a scene with at least this much video is
    # rendered in up to SLICE_MAX slices by any replicas, joined exactly; 0 / 1: off.
    # Off by default: it pays only with idle replicas (a user's slices share that user's
    # MAX_RENDERS_PER_USER per replica) and costs every scene a dry pass (bench slicing).
    slice_min_seconds: float = _env("SLICE_MIN_SECONDS", _non_negative_float, default=0.0)
    slice_max: int = _env("SLICE_MAX", _positive_int, default=4)
    default_quality: str = _env("DEFAULT_QUALITY", _choice(*QUALITIES), default="medium")
    use_gpu_acceleration: bool = _env("USE_GPU_ACCELERATION", _bool, default=False)
    # Which renderer draws each scene; USE_GPU_ACCELERATION=true is RENDERER=opengl.
    renderer: str = _env(
        "RENDERER", _choice(*RENDERER_MODES), default="auto", services=("renderer",)
    )
    max_fix_attempts: int = _env("MAX_FIX_ATTEMPTS", _positive_int, default=3)
    render_timeout_seconds: float = _env("RENDER_TIMEOUT_SECONDS", _positive_float, default=600.0)
    # The render jail and limits (services/renderer/jail.py, sandbox.py), warm pool, cache.
    render_memory_mb: int = _env("RENDER_MEMORY_MB", _positive_int, default=4096)
    render_cpu_seconds: int = _env("RENDER_CPU_SECONDS", _positive_int, default=900)
    render_max_file_mb: int = _env("RENDER_MAX_FILE_MB", _positive_int, default=1024)
    render_max_processes: int = _env("RENDER_MAX_PROCESSES", _positive_int, default=256)
    # jail: every render in bubblewrap + its own cell (refuse to start without);
    # unsafe-dev: no jail at all, for a development machine that lacks the primitives.
    render_sandbox: str = _env("RENDER_SANDBOX", _choice("jail", "unsafe-dev"), default="jail")
    render_warm_pool: bool = _env("RENDER_WARM_POOL", _bool, default=True)
    # The layout check after render (services/renderer/layout.py): repair (one repair round
    # for scenes an LLM wrote; the built-in model's and client code only warned), warn, off.
    layout_check: str = _env(
        "LAYOUT_CHECK", _choice("repair", "warn", "off"), default="repair", services=("renderer",)
    )
    render_cache_mb: int = _env("RENDER_CACHE_MB", _non_negative_int, default=1024)  # 0: off
    # A scene that failed for good is left out and the rest combined (false: the job fails).
    partial_assembly: bool = _env("PARTIAL_ASSEMBLY", _bool, default=False)
    # What happens to a scene whose fixes all failed: the built-in model's version, or fail.
    scene_fallback: str = _env("SCENE_FALLBACK", _choice("builtin", "fail"), default="builtin")
    fix_backoff_seconds: float = _env("FIX_BACKOFF_SECONDS", _positive_float, default=1.0)
    # LLM endpoints (a model string `provider/model` picks one) and call limits.
    openai_api_key: Secret = _env(
        "OPENAI_API_KEY", Secret, default=Secret(""), services=LLM_CALLERS
    )
    openai_base_url: str = _env("OPENAI_BASE_URL", default="", services=LLM_CALLERS)
    ollama_base_url: str = _env("OLLAMA_BASE_URL", default="http://127.0.0.1:11434/v1")
    vllm_base_url: str = _env("VLLM_BASE_URL", default="", services=LLM_CALLERS)
    vllm_api_key: Secret = _env("VLLM_API_KEY", Secret, default=Secret(""), services=LLM_CALLERS)
    openrouter_api_key: Secret = _env(
        "OPENROUTER_API_KEY", Secret, default=Secret(""), services=LLM_CALLERS
    )
    llm_timeout_seconds: float = _env("LLM_TIMEOUT_SECONDS", _positive_float, default=60.0)
    llm_max_retries: int = _env("LLM_MAX_RETRIES", _non_negative_int, default=3)
    llm_retry_base_seconds: float = _env("LLM_RETRY_BASE_SECONDS", _positive_float, default=1.0)
    llm_max_reasks: int = _env("LLM_MAX_REASKS", _non_negative_int, default=2)
    # Retrieval over the installed Manim's docs (USE_RAG); dense vectors need an endpoint.
    embeddings_model: str = _env("EMBEDDINGS_MODEL", default="")
    # Visual critique of rendered scenes by a vision model (services/coder/critique.py).
    vision_model: str = _env(  # "": off
        "VISION_MODEL", _provider_model_or_off, default="", services=("coder",)
    )
    vision_frames: int = _env("VISION_FRAMES", _positive_int, default=3, services=("coder",))
    vision_frame_width: int = _env(
        "VISION_FRAME_WIDTH", _positive_int, default=768, services=("coder",)
    )
    qdrant_url: str = _env("QDRANT_URL", default="")
    rag_top_k: int = _env("RAG_TOP_K", _positive_int, default=5)
    # Narration (services/narrator): which voice speaks, and what an outage of it does.
    enable_narration: bool = _env("ENABLE_NARRATION", _bool, default=True)
    tts_model: str = _env("TTS_MODEL", _tts_model, default="builtin")
    tts_voice: str = _env("TTS_VOICE", default="")
    tts_base_url: str = _env("TTS_BASE_URL", default="")
    tts_fallback: str = _env("TTS_FALLBACK", _choice("offline", "fail"), default="offline")
    # Bus: each service is its own NATS user (shared/access.py); `videogen up` makes them.
    nats_url: str = _env("NATS_URL", _nats_urls, default="nats://127.0.0.1:4222")
    nats_user: str = _env("NATS_USER", default="")
    nats_password: Secret = _env("NATS_PASSWORD", Secret, default=Secret(""))
    jetstream_replicas: int = _env("JETSTREAM_REPLICAS", _positive_int, default=1)
    # The JetStream store limit of the nats-server `videogen up` starts.
    nats_max_store: int = _env("NATS_MAX_STORE", _size, default=10 * 2**30)
    ack_wait_seconds: float = _env("ACK_WAIT_SECONDS", _positive_float, default=30.0)
    max_deliver: int = _env("MAX_DELIVER", _positive_int, default=5)
    event_retention_days: float = _env("EVENT_RETENTION_DAYS", _positive_float, default=7.0)
    # Storage.
    data_dir: Path = _env("DATA_DIR", Path, default=Path("var"))
    video_storage_mode: str = _env(
        "VIDEO_STORAGE_MODE", _choice(*STORAGE_MODES), default="local_only", services=STORERS
    )
    enable_thumbnails: bool = _env("ENABLE_THUMBNAILS", _bool, default=True)
    # S3 or any S3-compatible server (MinIO SDK); needed by s3_only and local_and_s3.
    s3_endpoint_url: str = _env("S3_ENDPOINT_URL", _endpoint, default="", services=STORERS)
    # For presigned URLs, when clients cannot reach S3_ENDPOINT_URL.
    s3_public_url: str = _env("S3_PUBLIC_URL", _endpoint, default="", services=STORERS)
    s3_bucket: str = _env("S3_BUCKET", _bucket, default="", services=STORERS)
    s3_region: str = _env("S3_REGION", default="us-east-1", services=STORERS)
    aws_access_key_id: str = _env("AWS_ACCESS_KEY_ID", default="", services=STORERS)
    aws_secret_access_key: Secret = _env(
        "AWS_SECRET_ACCESS_KEY", Secret, default=Secret(""), services=STORERS
    )
    s3_create_bucket: bool = _env("S3_CREATE_BUCKET", _bool, default=True, services=STORERS)
    s3_fallback_to_local: bool = _env(
        "S3_FALLBACK_TO_LOCAL", _bool, default=False, services=STORERS
    )
    s3_serve_mode: str = _env(
        "S3_SERVE_MODE", _choice("presign", "proxy"), default="presign", services=STORERS
    )
    s3_url_expiry_seconds: int = _env(
        "S3_URL_EXPIRY_SECONDS", _positive_int, default=900, services=STORERS
    )
    storage_max_retries: int = _env(
        "STORAGE_MAX_RETRIES", _positive_int, default=3, services=STORERS
    )
    storage_retry_base_seconds: float = _env(
        "STORAGE_RETRY_BASE_SECONDS", _positive_float, default=1.0, services=STORERS
    )
    # Off by default: the job's intermediate artifacts are what event replay re-runs from.
    storage_cleanup: bool = _env("STORAGE_CLEANUP", _bool, default=False, services=STORERS)
    # Disk pressure: storage and renderer refuse to write below this much free space (the
    # headroom keeps NATS and logs writing), and new jobs are refused with 507 meanwhile.
    min_free_disk_mb: int = _env("MIN_FREE_DISK_MB", _non_negative_int, default=512)
    # Gateway. Its API keys never reach a stage.
    api_keys: dict[str, str] = _env("API_KEYS", _api_keys, default_factory=dict, services=GATEWAY)
    gateway_host: str = _env("GATEWAY_HOST", default="127.0.0.1")
    gateway_port: int = _env("GATEWAY_PORT", _positive_int, default=8000)
    max_request_bytes: int = _env("MAX_REQUEST_BYTES", _positive_int, default=65536)
    max_queued_jobs: int = _env("MAX_QUEUED_JOBS", _positive_int, default=100)
    max_queued_jobs_per_user: int = _env("MAX_QUEUED_JOBS_PER_USER", _positive_int, default=20)
    # Without API_KEYS on a non-loopback address the gateway refuses to start unless this is set.
    allow_anonymous: bool = _env("ALLOW_ANONYMOUS", _bool, default=False)
    # Models a job may name; empty: the configured ones (and builtin).
    allowed_models_list: tuple[str, ...] = _env("ALLOWED_MODELS", _names, default=())
    # Signed webhooks (Standard Webhooks) when a job ends; a job asks with `webhook_url`.
    webhook_secret: Secret = _env("WEBHOOK_SECRET", Secret, default=Secret(""), services=GATEWAY)
    webhook_allow_private: bool = _env("WEBHOOK_ALLOW_PRIVATE", _bool, default=False)
    # Waits before each retry (Standard Webhooks' schedule: about 28 h in all).
    webhook_retry_schedule: tuple[float, ...] = _env(
        "WEBHOOK_RETRY_SCHEDULE",
        _seconds_list,
        default=(5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0),
    )
    webhook_timeout_seconds: float = _env("WEBHOOK_TIMEOUT_SECONDS", _positive_float, default=10.0)
    # Logging.
    debug: bool = _env("DEBUG", _bool, default=False)
    # Telemetry: stage workers serve /metrics, /healthz, /readyz here (0: off); traces
    # go over OTLP/HTTP to this collector URL (empty: off).
    metrics_port: int = _env("METRICS_PORT", _port_or_off, default=9100)
    otel_exporter_otlp_endpoint: str = _env("OTEL_EXPORTER_OTLP_ENDPOINT", default="")

    def _teach_scrubber(self) -> None:
        """Give shared.redact every secret value and host path these settings hold."""
        secrets = [
            value.reveal()
            for name in self.__dataclass_fields__
            if isinstance(value := getattr(self, name), Secret)
        ]
        redact.add_secrets([*secrets, *self.api_keys, self.aws_access_key_id])
        data = self.data_dir
        redact.add_paths({str(data.resolve()): "<data>", str(data.absolute()): "<data>"})

    def __post_init__(self) -> None:
        # Every Settings teaches the scrubber its secrets, so no entry point can forget to.
        self._teach_scrubber()
        if self.use_gpu_acceleration and self.renderer == "cairo":
            raise SettingsError("USE_GPU_ACCELERATION=true contradicts RENDERER=cairo")
        if self.video_storage_mode == "local_only":
            return
        needed = {
            "S3_ENDPOINT_URL": self.s3_endpoint_url,
            "S3_BUCKET": self.s3_bucket,
            "AWS_ACCESS_KEY_ID": self.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.aws_secret_access_key,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise SettingsError(
                f"VIDEO_STORAGE_MODE={self.video_storage_mode} needs {', '.join(missing)}"
            )
        if self.s3_url_expiry_seconds > 7 * 24 * 3600:
            raise SettingsError("S3_URL_EXPIRY_SECONDS: S3 allows at most 604800 (7 days)")

    @property
    def nats_servers(self) -> list[str]:
        """NATS_URL as the list of servers a client tries in turn."""
        return self.nats_url.split(",")

    @property
    def renderer_mode(self) -> str:
        """RENDERER, where USE_GPU_ACCELERATION=true (the same switch, older name) is opengl."""
        return "opengl" if self.use_gpu_acceleration else self.renderer

    @property
    def narration_on(self) -> bool:
        """Whether new jobs are narrated (the gateway stamps it into each job's context)."""
        return self.enable_narration and self.tts_model != "none"

    @property
    def single_user_mode(self) -> bool:
        """No API keys configured: every request is user `local`."""
        return not self.api_keys

    @property
    def allowed_models(self) -> frozenset[str]:
        """Models a job's `model` may name: ALLOWED_MODELS, else the configured ones."""
        if self.allowed_models_list:
            return frozenset(self.allowed_models_list)
        return frozenset({self.planner_model, self.scene_model, self.helper_model, "builtin"})

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


def services_of(variable: str) -> tuple[str, ...]:
    """The services that get `variable` (KeyError for a variable that is no setting)."""
    return _SCOPES[variable]


def service_environment(service: str, environ: Mapping[str, str]) -> dict[str, str]:
    """What of `environ` one service process gets: the process basics and its settings.

    Nothing else passes, so a secret in the caller's shell or of another service never
    reaches, say, the renderer, which runs generated code.
    """
    return {
        name: value
        for name, value in environ.items()
        if (name in _SCOPES and service in _SCOPES[name])
        or name in PROCESS_VARIABLES
        or name.startswith(PROCESS_PREFIXES)
    }


def environment_table() -> list[tuple[str, str]]:
    """(variable, default) for every setting, for the README and manifests checks."""
    defaults = Settings()
    return [(spec.metadata["env"], repr(getattr(defaults, spec.name))) for spec in fields(Settings)]


_SCOPES: dict[str, tuple[str, ...]] = {
    spec.metadata["env"]: spec.metadata["services"] for spec in fields(Settings)
}
