"""Small pure pieces of the gateway: byte ranges, file names, API keys, unhandled errors."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from services.gateway.auth import LOCAL_USER, authenticate
from services.gateway.errors import ApiError
from services.gateway.media import RangeNotSatisfiable, byte_range, content_disposition
from services.gateway.middleware import RequestIdMiddleware


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=-10", (990, 999)),
        ("bytes=990-", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=5-2", None),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_byte_range_reads_one_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=-0", "bytes=2000-3000"])
def test_byte_range_outside_the_file_is_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        byte_range(header, 1000)
    assert raised.value.headers == {"Content-Range": "bytes */1000"}


def test_content_disposition_keeps_headers_safe() -> None:
    assert content_disposition("inline") == "inline"
    assert content_disposition("attachment", "Sorting: a guide") == (
        "attachment; filename=\"Sorting_a_guide.mp4\"; filename*=UTF-8''Sorting_%20a%20guide.mp4"
    )
    assert content_disposition("attachment", 'x"\r\n../y') == (
        "attachment; filename=\"x_.._y.mp4\"; filename*=UTF-8''x___.._y.mp4"
    )
    assert content_disposition("attachment", "三角形") == (
        "attachment; filename=\"video.mp4\"; filename*=UTF-8''%E4%B8%89%E8%A7%92%E5%BD%A2.mp4"
    )


def test_authenticate_maps_keys_to_users() -> None:
    assert authenticate({}, None) == LOCAL_USER
    assert authenticate({"k1": "alice", "k2": "bob"}, "k2") == "bob"
    for presented in (None, "", "k3", "k1 "):
        with pytest.raises(ApiError) as raised:
            authenticate({"k1": "alice"}, presented)
        assert raised.value.status_code == 401
        assert raised.value.headers == {"WWW-Authenticate": "Bearer"}


async def test_unhandled_errors_become_a_bare_500() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret connection string")

    transport = httpx.ASGITransport(app=RequestIdMiddleware(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-1"
    body = response.json()
    assert body["error"]["code"] == "INTERNAL_ERROR" and body["request_id"] == "req-1"
    assert "secret" not in response.text
