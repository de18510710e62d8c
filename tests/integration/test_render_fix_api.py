"""`POST /videos/render` with `fix_api`: old-API code is rewritten before it is queued.

Real gateway app (in-process ASGI) on a real nats-server; what a client sees is the job's
/scenes attempts and the code the renderer is handed (the `scene.coded` code artifact).
"""

from __future__ import annotations

from typing import Any

import httpx

from shared.api_rewrites import rewrite_api
from shared.settings import Settings
from tests.integration.test_gateway_api import opened_gateway

OLD_API = """from manim import *


class Old(Scene):
    def construct(self):
        title = TextMobject("Hello")
        self.play(ShowCreation(Circle()), FadeInFrom(title, LEFT))
"""


async def _render(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post("/api/v1/videos/render", json={"code": OLD_API, **body})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


async def _attempt(client: httpx.AsyncClient, job_id: str) -> tuple[dict[str, Any], str]:
    scenes = (await client.get(f"/api/v1/videos/jobs/{job_id}/scenes")).json()["scenes"]
    [scene] = scenes
    [attempt] = scene["attempts"]
    code = (await client.get(f"/api/v1/videos/jobs/{job_id}/scenes/1/code")).json()
    return attempt, code["attempts"][0]["code"]


async def test_fix_api_rewrites_the_code_and_lists_each_rewrite(settings: Settings) -> None:
    async with opened_gateway(settings) as client:
        job_id = await _render(client, fix_api=True)
        attempt, code = await _attempt(client, job_id)
    assert 'title = Text("Hello")' in code
    assert "self.play(Create(Circle()), FadeIn(title, shift=RIGHT))" in code
    assert [(r["line"], r["before"], r["after"], r["rule"]) for r in attempt["rewrites"]] == [
        (6, "TextMobject", "Text", "text_mobject"),
        (7, "ShowCreation", "Create", "rename"),
        (7, "FadeInFrom(title, LEFT)", "FadeIn(title, shift=RIGHT)", "fade_from"),
    ]


async def test_without_fix_api_the_code_is_rendered_as_sent(settings: Settings) -> None:
    async with opened_gateway(settings) as client:
        job_id = await _render(client)
        attempt, code = await _attempt(client, job_id)
    assert code == OLD_API
    assert attempt["rewrites"] == []


async def test_fix_api_rewrites_only_the_idioms(settings: Settings) -> None:
    """The render route applies no policy (the jail contains a client's code): fix_api
    changes the old idioms and nothing else of the file."""
    code = "import os\n" + OLD_API
    rewritten, rewrites = rewrite_api(code)
    assert rewritten.startswith("import os\n") and rewrites
    async with opened_gateway(settings) as client:
        response = await client.post("/api/v1/videos/render", json={"code": code, "fix_api": True})
    assert response.status_code == 201, response.text
