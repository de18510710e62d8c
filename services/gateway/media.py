"""Serving a stored file over HTTP: byte ranges, validators (ETag, Last-Modified), chunks.

Store-agnostic: it needs a `StoredObject` (size, modified, etag) and a way to read a
byte range (`VideoStore.open_range`), so local files and S3 objects are served alike.
Starlette's `FileResponse` is not used because the contract wants 304s and the error
shape on 416.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from services.gateway.errors import ApiError
from shared.videostore import StoredObject

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApiError):
    def __init__(self, size: int) -> None:
        super().__init__(
            416,
            "RANGE_NOT_SATISFIABLE",
            "Requested range not satisfiable",
            details={"size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a `Range` header, or None to send everything.

    A header that is not one well-formed byte range is ignored, as RFC 9110 allows
    (multi-range requests get the whole file); a well-formed one that misses the file
    raises `RangeNotSatisfiable`.
    """
    match = _SINGLE_RANGE.match((header or "").strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    return start, min(int(last), size - 1) if last else size - 1


def not_modified(headers: Mapping[str, str], stored: StoredObject) -> bool:
    """Whether the client's cached copy (If-None-Match, else If-Modified-Since) is current."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or stored.etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return stored.modified.replace(microsecond=0) <= since
    return False


def content_disposition(kind: str, name: str | None = None) -> str:
    """`inline` or `attachment`, with an ASCII filename and RFC 6266 `filename*` if needed."""
    if name is None:
        return kind
    fallback = safe_ascii_name(name)
    header = f'{kind}; filename="{fallback}"'
    readable = _printable_name(name)
    if readable != fallback:
        header += f"; filename*=UTF-8''{quote(readable, safe='')}"
    return header


def safe_ascii_name(name: str, *, extension: str = ".mp4") -> str:
    """A file name safe in any header and file system, from a free-text title."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:100] or "video"
    return stem + extension


def _printable_name(name: str, *, extension: str = ".mp4") -> str:
    stem = "".join(
        char if char == " " or unicodedata.category(char)[0] not in "CZ" else "_" for char in name
    )
    stem = re.sub(r'[\\/:*?"<>|]+', "_", stem).strip("._")[:100] or "video"
    return stem + extension


def file_response(
    *,
    read_range: Callable[[int, int], AsyncIterator[bytes]],
    stored: StoredObject,
    request_headers: Mapping[str, str],
    media_type: str,
    disposition: str,
) -> Response:
    """A 200, 206 or 304, streamed in chunks by `read_range(first, last)`, never whole."""
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": stored.etag,
        "Last-Modified": format_datetime(stored.modified, usegmt=True),
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": disposition,
    }
    if not_modified(request_headers, stored):
        return Response(status_code=304, headers=headers)
    span = byte_range(request_headers.get("range"), stored.size)
    first, last = span if span is not None else (0, stored.size - 1)
    headers["Content-Length"] = str(last - first + 1 if stored.size else 0)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{stored.size}"
    return StreamingResponse(
        read_range(first, last), status_code=status, headers=headers, media_type=media_type
    )
