"""The contract's error shape, for every 4xx and 5xx the gateway answers.

Routes raise `ApiError`; FastAPI's own errors (unknown route, wrong method, request
validation) are translated here, so no client ever sees FastAPI's default bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shared.redact import redact, redact_value

SUMMARIES: dict[str, str] = {
    "VALIDATION_ERROR": "Request validation failed",
    "UNAUTHORIZED": "Authentication required",
    "FORBIDDEN": "Forbidden",
    "NOT_FOUND": "Resource not found",
    "METHOD_NOT_ALLOWED": "Method not allowed",
    "CONFLICT": "Request conflicts with the job's current state",
    "PAYLOAD_TOO_LARGE": "Request body too large",
    "RANGE_NOT_SATISFIABLE": "Requested range not satisfiable",
    "RATE_LIMIT_EXCEEDED": "Too many requests",
    "INTERNAL_ERROR": "Internal server error",
    "SERVICE_UNAVAILABLE": "Service unavailable",
    "INTEGRITY_ERROR": "The stored file does not match its recorded checksum",
}
# What a 503 tells a client to wait: a bus reconnect or a JetStream leader election
# takes seconds, not minutes.
RETRY_AFTER_SECONDS = 5
_CODE_OF_STATUS: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    416: "RANGE_NOT_SATISFIABLE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """A failure with a status, a contract error code and what the client can act on."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def not_found(what: str = "Job") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found")


def unavailable(message: str, *, details: dict[str, Any] | None = None) -> ApiError:
    """A 503 with `Retry-After`: nothing was changed, the same request may be retried."""
    return ApiError(
        503,
        "SERVICE_UNAVAILABLE",
        message,
        details=details,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def request_id_of(scope: Mapping[str, Any]) -> str:
    return scope.get("state", {}).get("request_id", "")


def error_response(
    request_id: str,
    status_code: int,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The contract's error body; its text is scrubbed of secrets and host paths."""
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "status": "error",
        "message": SUMMARIES.get(code, redact(message)),
        "error": {
            "code": code,
            "message": redact(message),
            "details": redact_value(details),
            "timestamp": timestamp,
        },
        "request_id": request_id,
    }
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]


async def _on_api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(
        request_id_of(request.scope),
        exc.status_code,
        exc.code,
        exc.message,
        details=exc.details,
        headers=exc.headers,
    )


async def _on_http_exception(request: Request, exc: HTTPException) -> JSONResponse:
    code = _CODE_OF_STATUS.get(exc.status_code, "INTERNAL_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else SUMMARIES[code]
    if exc.status_code == 404:
        message = "No such route"
    return error_response(
        request_id_of(request.scope), exc.status_code, code, message, headers=exc.headers
    )


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = list(exc.errors())
    field_errors = [_field_error(problem) for problem in problems]
    if any(problem.get("type") == "json_invalid" for problem in problems):
        status_code, message = 400, "Request body is not valid JSON"
    else:
        status_code, message = (
            422,
            "; ".join(f"{error['field']}: {error['message']}" for error in field_errors),
        )
    return error_response(
        request_id_of(request.scope),
        status_code,
        "VALIDATION_ERROR",
        message,
        details={"field_errors": field_errors},
    )


def _field_error(problem: Mapping[str, Any]) -> dict[str, str]:
    """One pydantic problem without its `input`, which may be huge or secret."""
    location = [str(part) for part in problem.get("loc", ())]
    field = ".".join(location[1:]) or (location[0] if location else "")
    return {"field": field, "message": str(problem.get("msg", "")), "type": problem["type"]}
