"""A webhook receiver on loopback for tests: answers a scripted list of statuses, keeps
every request, and verifies signatures with the Standard Webhooks reference library."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    url: str
    answers: list[int]  # statuses to answer in turn; 200 once they run out
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200

    def verified(self, secret: str | bytes) -> list[dict]:
        """The bodies of the successful deliveries, each signature checked (raises if bad)."""
        hook = Webhook(secret)
        return [
            hook.verify(item.body, item.headers) for item in self.received if item.answered == 200
        ]


@contextlib.contextmanager
def running_receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(url="", answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = receiver.next_status()
            with receiver.lock:
                receiver.received.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/videogen"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
