"""Signed webhooks against a real nats-server and a real receiver on loopback.

Jobs end here by cancellation (no pipeline runs): the webhook fires on every terminal
state the same way. Loopback is a private address, so these tests set
WEBHOOK_ALLOW_PRIVATE=true — except the one checking that it is refused without it.
"""

from __future__ import annotations

import asyncio
import base64
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from shared.settings import Secret, Settings
from tests.integration.test_gateway_api import (
    GENERATE,
    REQUEST,
    assert_error_shape,
    opened_gateway,
)
from tests.webhook_receiver import running_receiver

SECRET = "whsec_" + base64.b64encode(b"webhook-test-secret-0123456789").decode()
HOOKS = {
    "webhook_secret": Secret(SECRET),
    "webhook_allow_private": True,
    "webhook_retry_schedule": (0.2, 0.2, 0.2, 0.2),
}


async def _cancelled_job(client: httpx.AsyncClient, url: str) -> str:
    response = await client.post(GENERATE, json={**REQUEST, "webhook_url": url})
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    assert (await client.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 200
    return job_id


async def _webhooks(
    client: httpx.AsyncClient, job_id: str, *, until_state: str, timeout: float = 30.0
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await client.get(f"/api/v1/jobs/{job_id}/webhooks")).json()
        if body["deliveries"] and body["deliveries"][0]["state"] == until_state:
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def test_failing_twice_then_succeeding_gives_one_delivery_after_three_attempts(
    settings: Settings,
) -> None:
    with running_receiver(answers=[500, 503]) as receiver:
        async with opened_gateway(settings, **HOOKS) as client:
            job_id = await _cancelled_job(client, receiver.url)
            body = await _webhooks(client, job_id, until_state="delivered")
            await asyncio.sleep(1.0)  # time for any (wrong) further attempt
            body = (await client.get(f"/api/v1/jobs/{job_id}/webhooks")).json()

        (delivery,) = body["deliveries"]
        assert body["webhook_url"] == receiver.url
        assert delivery["event"] == "job.cancelled" and delivery["state"] == "delivered"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
        assert [item.answered for item in receiver.received] == [500, 503, 200]
        (payload,) = receiver.verified(SECRET)  # exactly one successful, signed delivery
        assert payload["job_id"] == job_id and payload["status"] == "cancelled"
        ids = {item.headers["webhook-id"] for item in receiver.received}
        assert ids == {delivery["id"]}  # one message, retried under one id


async def test_two_gateway_replicas_deliver_each_webhook_once(settings: Settings) -> None:
    with running_receiver() as receiver:
        async with AsyncExitStack() as replicas:
            first = await replicas.enter_async_context(opened_gateway(settings, **HOOKS))
            second = await replicas.enter_async_context(opened_gateway(settings, **HOOKS))
            jobs = [
                await _cancelled_job(client, receiver.url)
                for client in (first, second, first, second)
            ]
            for job_id in jobs:
                await _webhooks(first, job_id, until_state="delivered")
            await asyncio.sleep(1.0)
        delivered = receiver.verified(SECRET)
        assert sorted(payload["job_id"] for payload in delivered) == sorted(jobs)
        assert len(receiver.received) == len(jobs)  # no attempt twice


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",  # loopback
        "http://localhost/hook",  # a name that resolves to loopback
        "http://10.1.2.3/hook",  # private
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "http://[::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
        "ftp://example.com/hook",  # not http(s)
        "http://user:pass@example.com/hook",
        "not a url",
    ],
)
async def test_private_and_invalid_urls_are_refused_with_422(settings: Settings, url) -> None:
    hooks = {**HOOKS, "webhook_allow_private": False}
    async with opened_gateway(settings, **hooks) as client:
        response = await client.post(GENERATE, json={**REQUEST, "webhook_url": url})
    body = assert_error_shape(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["error"]["details"]["field_errors"]] == ["webhook_url"]


async def test_webhooks_need_a_secret(settings: Settings) -> None:
    with running_receiver() as receiver:
        async with opened_gateway(settings, webhook_allow_private=True) as client:
            response = await client.post(GENERATE, json={**REQUEST, "webhook_url": receiver.url})
    body = assert_error_shape(response, 422, "VALIDATION_ERROR")
    assert "WEBHOOK_SECRET" in body["error"]["message"]
