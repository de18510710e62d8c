"""The OpenAPI document says what the gateway answers, and /docs works offline.

Against a real gateway process with a real nats-server behind it: the document lists
every status each route can return with the error schema; Schemathesis fuzzes every
operation (bounded examples) and finds no server error, no undocumented status and no
schema violation; a headless Chromium that may reach nothing but loopback renders
/docs and /redoc with the operations in them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from videogen.stack import Stack, isolated_stack

KEY = "key-fuzzer"
AUTH = {"Authorization": f"Bearer {KEY}"}
MAX_REQUEST_BYTES = 65536
# Bounded so the run takes about a minute on a loaded 2-core machine.
FUZZ_EXAMPLES = 60
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with isolated_stack(
        tmp_path_factory.mktemp("openapi"),
        services=("gateway",),
        API_KEYS=f"{KEY}:fuzzer",
        MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES),
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def document(gateway: Stack) -> dict[str, Any]:
    return httpx.get(f"{gateway.base_url}/openapi.json", timeout=30).json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_lists_its_error_statuses(document: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        expected = {"500"}
        if path.startswith("/api/"):
            expected |= {"401", "503"}
        if "{job_id}" in path:
            expected |= {"404"}
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status[0] in "45":
                assert response["content"]["application/json"]["schema"] == error_ref, (
                    method,
                    path,
                    status,
                )
        if "503" in responses:
            assert "Retry-After" in responses["503"]["headers"]
    paths = document["paths"]
    assert {"409", "429"} <= set(paths["/api/v1/videos/generate"]["post"]["responses"])
    assert "429" in paths["/api/v1/videos/render"]["post"]["responses"]
    assert "409" in paths["/api/v1/jobs/{job_id}/cancel"]["post"]["responses"]
    for media in ("stream", "download", "thumbnail", "subtitles"):
        statuses = paths[f"/api/v1/videos/jobs/{{job_id}}/{media}"]["get"]["responses"]
        assert {"206", "304", "409", "416"} <= set(statuses), media
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_render_code_limit_agrees_with_the_request_size_limit(
    gateway: Stack, document: dict[str, Any]
) -> None:
    limit = document["components"]["schemas"]["RenderRequest"]["properties"]["code"]["maxLength"]
    assert limit < MAX_REQUEST_BYTES
    longest = {"code": "x" * limit, "quality": "low"}  # valid per schema, at its limit
    response = httpx.post(
        f"{gateway.base_url}/api/v1/videos/render", json=longest, headers=AUTH, timeout=30
    )
    assert response.status_code == 422, response.text  # judged on content (no scene), not size
    assert response.json()["error"]["details"]["field_errors"][0]["type"] == "no_scene"
    over = {"code": "x" * (limit + 1), "quality": "low"}
    response = httpx.post(
        f"{gateway.base_url}/api/v1/videos/render", json=over, headers=AUTH, timeout=30
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field_errors"][0]["field"] == "code"


def test_schemathesis_finds_no_server_error_undocumented_status_or_schema_violation(
    gateway: Stack, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{gateway.base_url}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,response_schema_conformance,"
        "content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--header",
        f"Authorization: Bearer {KEY}",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    summary = output.split("SUMMARY")[-1]
    assert " passed" in summary and "failed" not in summary, output[-3000:]
    assert "Stateful" in output and "Scenarios:" in output  # real jobs, through the links


def _render_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, in a Chromium that reaches only loopback."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-default-apps",
        f"--user-data-dir={profile}",
        # Nothing but loopback: every other name fails to resolve, every proxy is dead.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",  # loopback bypasses proxies by default
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/system-packages.sh installs it)"
)
def test_docs_render_offline_in_headless_chromium(gateway: Stack, tmp_path: Path) -> None:
    page = httpx.get(f"{gateway.base_url}/docs", timeout=30).text
    assert "cdn." not in page and "https://" not in page
    swagger = _render_dom(f"{gateway.base_url}/docs", tmp_path / "swagger")
    for path in ("/api/v1/videos/generate", "/api/v1/jobs/{job_id}/cancel", "/ready"):
        assert f'data-path="{path}"' in swagger, path
    redoc = _render_dom(f"{gateway.base_url}/redoc", tmp_path / "redoc")
    assert "operation/generate_video" in redoc and "/api/v1/videos/generate" in redoc


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_browser_really_has_no_network_beyond_loopback(tmp_path: Path) -> None:
    """The check above can fail: a page from a CDN stays blank in this browser."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<div id="out">blank</div><script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/'
        'swagger-ui-bundle.js"></script><script>if (window.SwaggerUIBundle) '
        'document.getElementById("out").textContent = "loaded"</script>'
    )
    dom = _render_dom(page.as_uri(), tmp_path / "profile")
    assert '<div id="out">blank</div>' in dom
