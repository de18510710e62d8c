"""Run the storage: `videogen worker storage` or `python -m services.storage`."""

from services.storage.handlers import register
from shared.service import run_service


def main() -> None:
    run_service("storage", register)


if __name__ == "__main__":
    main()
