"""Pure ASGI middleware at the edge: request ids, unhandled errors, request size.

Pure ASGI (not `BaseHTTPMiddleware`) so media responses stream through untouched.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import error_response, request_id_of

log = logging.getLogger("videogen.gateway")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Tags every response with `X-Request-ID` and turns unhandled errors into a bare 500.

    An incoming id is reused when it is sane, so a client can follow its request
    through the logs; anything else gets a fresh id rather than reflected back.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = (
            dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        )
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled error", extra={"request_id": request_id, "path": scope.get("path")}
            )
            if started:
                raise
            response = error_response(
                request_id, 500, "INTERNAL_ERROR", "The server failed to handle this request"
            )
            await response(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Answers 413 for a body over `max_bytes`, by its Content-Length or its actual size.

    Request bodies here are small JSON, so the body is read (up to the limit) before the
    app runs and replayed to it; a lying or absent Content-Length changes nothing.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replaying(message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replaying(whole, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            request_id_of(scope),
            413,
            "PAYLOAD_TOO_LARGE",
            f"Request body exceeds {self.max_bytes} bytes",
            details={"max_bytes": self.max_bytes},
        )
        await response(scope, receive, send)


def _replaying(first: Message, receive: Receive) -> Receive:
    """A `receive` that returns `first` once, then defers to the real one."""
    pending: list[Message] = [first]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
