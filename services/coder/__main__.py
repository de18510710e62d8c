"""Run the coder: `videogen worker coder` or `python -m services.coder`."""

from services.coder.handlers import register
from shared.service import run_service


def main() -> None:
    run_service("coder", register)


if __name__ == "__main__":
    main()
