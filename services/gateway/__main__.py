"""Run the gateway: `videogen worker gateway` or `python -m services.gateway`."""

import sys

import uvicorn

from services.gateway.app import create_app
from services.gateway.auth import check_exposure
from shared.logs import configure_logging
from shared.settings import SettingsError, load_settings
from shared.tracing import configure_tracing


def main() -> None:
    try:
        settings = load_settings()
        check_exposure(settings)
    except SettingsError as exc:
        sys.exit(f"gateway: {exc}")
    configure_logging("gateway", debug=settings.debug)
    configure_tracing("gateway", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
