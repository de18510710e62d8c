"""Run the renderer: `videogen worker renderer` or `python -m services.renderer`."""

from services.renderer.handlers import register
from shared.service import run_service


def main() -> None:
    run_service("renderer", register)


if __name__ == "__main__":
    main()
