"""Prompt files filled with `$name` placeholders; each stage keeps its own folder of them.

The prompts are files so they can be read and tuned without touching code; they live
beside the model class that sends them (services/planner/prompts, services/coder/prompts).
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

from shared.llm.client import Message


class PromptFolder:
    """The prompts in one folder, read once each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @functools.cache  # noqa: B019 - one folder object per stage, alive for the process
    def _template(self, name: str) -> Template:
        return Template((self.folder / f"{name}.md").read_text())

    def render(self, name: str, **values: object) -> str:
        """Prompt `name` with every placeholder filled; a missing value is a KeyError."""
        return self._template(name).substitute({key: str(value) for key, value in values.items()})

    def messages(self, name: str, **values: object) -> list[Message]:
        """A chat: the folder's `system` prompt, then prompt `name`, both filled from `values`.

        The system prompt takes the values it names and ignores the rest.
        """
        return [
            {"role": "system", "content": self._template("system").safe_substitute(values)},
            {"role": "user", "content": self.render(name, **values)},
        ]
