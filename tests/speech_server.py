"""An OpenAI-compatible speech server for tests: `POST /v1/audio/speech` → real speech.

It speaks with espeak-ng (so the audio is real speech a test can measure), records every
request (what the `openai` SDK sent), and can be switched to fail (HTTP 503, an outage)
or to answer slowly (to catch a job mid-narration).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer


@dataclass
class SpeechRequest:
    body: dict[str, Any]
    authorization: str
    at: float


class SpeechServer(LoopbackServer):
    """`base_url` is what TTS_BASE_URL points at; `failing`/`delay` steer the answers."""

    def __init__(self) -> None:
        self.received: list[SpeechRequest] = []
        self.failing = False
        self.delay = 0.0
        super().__init__(_handler_for(self))

    def requests(self) -> list[SpeechRequest]:
        with self.lock:
            return list(self.received)


def speak(text: str, voice: str) -> bytes:
    """WAV bytes of `text` spoken by espeak-ng (its voice picked from the OpenAI name)."""
    variant = "en-us" if voice in ("alloy", "nova", "echo") else "en-gb"
    return subprocess.run(
        ["espeak-ng", "-v", variant, "--stdout", "--stdin"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def _handler_for(server: SpeechServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with server.lock:
                server.received.append(
                    SpeechRequest(body, self.headers.get("Authorization", ""), time.monotonic())
                )
            time.sleep(server.delay)
            if server.failing or not self.path.endswith("/audio/speech"):
                self._send(
                    503,
                    "application/json",
                    json.dumps({"error": {"message": "speech is down", "type": "outage"}}).encode(),
                )
                return
            self._send(200, "audio/wav", speak(body["input"], body.get("voice", "alloy")))

        def _send(self, status: int, kind: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
