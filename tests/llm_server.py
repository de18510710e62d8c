"""A scripted OpenAI-compatible server for tests: chat completions (text or with images,
as vision models take them) and embeddings.

Each chat request is matched against rules (substrings of its messages, most recently
added rule first); a rule replays its scripted replies in order and repeats the last.
Every request is recorded with the time it arrived, so tests can assert what the real
`openai` SDK sent and when (retries, Retry-After).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer


@dataclass
class Reply:
    """One scripted answer: assistant text, or an HTTP error status with headers."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 100
    completion_tokens: int = 50


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    at: float

    @property
    def text(self) -> str:
        """All message text of a chat request (text parts of multi-part messages too), joined."""
        return "\n".join(_text(m.get("content")) for m in self.body.get("messages", []))

    @property
    def images(self) -> list[bytes]:
        """The images of a chat request's `image_url` parts, decoded from their data URLs."""
        return [
            base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            for m in self.body.get("messages", [])
            if isinstance(m.get("content"), list)
            for part in m["content"]
            if part.get("type") == "image_url"
        ]


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


@dataclass
class _Rule:
    needles: tuple[str, ...]
    replies: list[Reply]
    served: int = 0


class ScriptedLLM(LoopbackServer):
    """The server's script and record; `base_url` is what the SDK points at."""

    def __init__(self) -> None:
        self.rules: list[_Rule] = []
        self.received: list[Received] = []
        super().__init__(_handler_for(self))

    def on(self, *needles: str, replies: list[Reply | str]) -> None:
        """Answer requests containing every needle with `replies`, in order."""
        scripted = [r if isinstance(r, Reply) else Reply(content=r) for r in replies]
        with self.lock:
            self.rules.insert(0, _Rule(needles, scripted))

    def requests(self, *needles: str) -> list[Received]:
        """Chat requests received that contain every needle."""
        with self.lock:
            return [
                r
                for r in self.received
                if r.path.endswith("/chat/completions") and all(n in r.text for n in needles)
            ]

    def answer(self, request: Received) -> Reply:
        with self.lock:
            self.received.append(request)
            if request.path.endswith("/embeddings"):
                return Reply(content="embeddings")
            for rule in self.rules:
                if all(n in request.text for n in rule.needles):
                    reply = rule.replies[min(rule.served, len(rule.replies) - 1)]
                    rule.served += 1
                    return reply
        return Reply(status=500, content="no scripted reply matches this request")


def _embedding(text: str, dimensions: int = 16) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 for b in digest[:dimensions]]


def _handler_for(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            request = Received(path=self.path, body=body, at=time.monotonic())
            reply = llm.answer(request)
            payload: dict[str, Any]
            if reply.status != 200:
                payload = {
                    "error": {
                        "message": reply.content or "scripted error",
                        "type": "scripted",
                        "code": reply.status,
                    }
                }
            elif self.path.endswith("/embeddings"):
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                payload = {
                    "object": "list",
                    "model": body.get("model"),
                    "data": [
                        {"object": "embedding", "index": i, "embedding": _embedding(t)}
                        for i, t in enumerate(inputs)
                    ],
                    "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
                }
            else:
                payload = {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "scripted"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply.content},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": reply.prompt_tokens,
                        "completion_tokens": reply.completion_tokens,
                        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                    },
                }
            data = json.dumps(payload).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
