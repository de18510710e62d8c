"""Run the planner: `videogen worker planner` or `python -m services.planner`."""

from services.planner.handlers import register
from shared.service import run_service


def main() -> None:
    run_service("planner", register)


if __name__ == "__main__":
    main()
