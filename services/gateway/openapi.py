"""The OpenAPI document says what the gateway really answers.

FastAPI documents a route's success and, for routes with parameters, a 422 in its own
body shape. The gateway answers more, from middleware, dependencies and handlers, all
in the contract's error shape: 400 (bad JSON) and 413 (too large) for bodies, 401 where
keys are configured, 404 for `{job_id}`, 503 while the bus is away. These are derived
from each operation here, so a route added later is documented too; route-specific
codes (409, 416, 429, …) are declared on the routes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.gateway.schemas import ErrorResponse
from shared.settings import Settings

# Room a render request needs beside its code: the JSON envelope and the other fields.
RENDER_ENVELOPE_BYTES = 1024
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_DESCRIPTIONS = {
    "400": "The body is not valid JSON (VALIDATION_ERROR)",
    "401": "Missing or wrong API key, when API_KEYS is set (UNAUTHORIZED)",
    "404": "No such job for this caller (NOT_FOUND)",
    "409": "Conflicts with the job's state (CONFLICT)",
    "413": "Request body over MAX_REQUEST_BYTES (PAYLOAD_TOO_LARGE)",
    "416": "Range not satisfiable (RANGE_NOT_SATISFIABLE)",
    "422": "Invalid request (VALIDATION_ERROR, details.field_errors)",
    "429": "Too many unfinished jobs; see Retry-After (RATE_LIMIT_EXCEEDED)",
    "500": "Unexpected failure (INTERNAL_ERROR), or a stored video that no longer "
    "matches its checksum (INTEGRITY_ERROR)",
    "503": "The message bus is unreachable or slow; see Retry-After (SERVICE_UNAVAILABLE)",
}


def code_limit(settings: Settings) -> int:
    """The longest `code` a render request can carry within MAX_REQUEST_BYTES."""
    return max(settings.max_request_bytes - RENDER_ENVELOPE_BYTES, 1)


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the completed document (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = complete(document, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Every operation's error statuses with the error schema; limits from the settings."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error.pop("$defs", {}))
    schemas["ErrorResponse"] = error
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            _document_errors(path, operation)
    render = schemas.get("RenderRequest", {}).get("properties", {}).get("code")
    if render is not None:
        render["maxLength"] = code_limit(settings)
    _link_new_jobs(document)
    return document


def _link_new_jobs(document: dict[str, Any]) -> None:
    """OpenAPI links from the routes that create a job to every route about one job.

    They tell clients (and fuzzers, which then test real jobs) where the new `job_id` goes.
    """
    paths = document.get("paths", {})
    targets = {
        operation["operationId"]: operation
        for path, operations in paths.items()
        if "{job_id}" in path
        for operation in operations.values()
        if "operationId" in operation
    }
    for path in ("/api/v1/videos/generate", "/api/v1/videos/render"):
        created = paths.get(path, {}).get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        created["links"] = {
            operation_id: {
                "operationId": operation_id,
                "parameters": {"job_id": "$response.body#/job_id"},
                "description": operation.get("summary", operation_id),
            }
            for operation_id, operation in sorted(targets.items())
        }


def _document_errors(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in _statuses(path, operation):
        entry = responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
        entry["content"] = {"application/json": {"schema": _ERROR_REF}}
        if status in ("429", "503"):
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying",
                    "schema": {"type": "integer"},
                }
            }
    for status, entry in responses.items():  # route-declared errors have the shape too
        if status[0] in "45":
            entry["content"] = {"application/json": {"schema": _ERROR_REF}}


def _statuses(path: str, operation: dict[str, Any]) -> list[str]:
    found = ["500"]
    rules: list[tuple[Callable[[], bool], list[str]]] = [
        (lambda: path.startswith("/api/"), ["401", "503"]),
        (lambda: path == "/ready", ["503"]),
        (lambda: "{job_id}" in path, ["404"]),
        (lambda: "requestBody" in operation, ["400", "413", "422"]),
        (lambda: bool(operation.get("parameters")), ["422"]),
    ]
    for applies, statuses in rules:
        if applies():
            found += statuses
    return sorted(set(found))
