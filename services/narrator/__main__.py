"""Run the narrator: `videogen worker narrator` or `python -m services.narrator`."""

from services.narrator.handlers import register
from shared.service import run_service


def main() -> None:
    run_service("narrator", register)


if __name__ == "__main__":
    main()
