"""Structured answers: JSON decoded and validated by msgspec, re-asked when invalid."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

import msgspec

from shared.errors import PermanentError
from shared.llm.client import ChatClient, Message

log = logging.getLogger("videogen.llm")
T = TypeVar("T")

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_CODE_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


class InvalidAnswer(ValueError):
    """The answer does not meet a rule msgspec's types cannot express."""


def json_text(reply: str) -> str:
    """The JSON object in a reply, without code fences or chatter around it."""
    fenced = _FENCE.search(reply)
    text = fenced.group(1) if fenced else reply
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def code_text(reply: str) -> str:
    """The Python module in a reply: the longest fenced block, else the whole reply."""
    blocks = _CODE_FENCE.findall(reply)
    return (max(blocks, key=len) if blocks else reply).strip() + "\n"


async def ask_structured(
    chat: ChatClient,
    messages: list[Message],
    kind: type[T],
    *,
    purpose: str = "chat",
    max_reasks: int,
    check: Callable[[T], None] | None = None,
) -> T:
    """`kind` decoded from the model's JSON answer; on invalid output the model is told
    what was wrong and asked again, at most `max_reasks` times."""
    conversation = list(messages)
    for asked in range(max_reasks + 1):
        reply = await chat.complete(conversation, purpose=purpose, json_mode=True)
        try:
            answer = msgspec.json.decode(json_text(reply), type=kind)
            if check is not None:
                check(answer)
            return answer
        except (msgspec.DecodeError, msgspec.ValidationError, InvalidAnswer) as exc:
            problem = str(exc)
            log.warning(
                "invalid structured answer (ask %d of %d): %s",
                asked + 1,
                max_reasks + 1,
                problem,
                extra={"model": chat.model_string},
            )
        conversation += [
            {"role": "assistant", "content": reply},
            {
                "role": "user",
                "content": f"That answer is invalid: {problem}. "
                "Answer again with JSON only, in exactly the requested shape.",
            },
        ]
    raise PermanentError(
        f"{chat.model_string} gave no valid {kind.__name__} in {max_reasks + 1} tries; "
        f"last problem: {problem}",
        code="LLM_INVALID_OUTPUT",
        suggestion="Try again, or choose a stronger model (PLANNER_MODEL / SCENE_MODEL).",
    )
