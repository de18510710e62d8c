"""Webhook signatures verify with the Standard Webhooks reference library, in both secret
forms; the retry schedule of one delivery."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.gateway.webhook_signing import secret_key, signed_headers
from services.gateway.webhooks import Attempt, Delivery, after_attempt
from shared.events import utc_now

BODY = json.dumps({"job_id": "j", "status": "completed"}).encode()


@pytest.mark.parametrize(
    ("configured", "receiver_secret"),
    [
        (
            "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode(),
            "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode(),
        ),
        ("plain text secret", b"plain text secret"),  # used as is: the receiver's raw key
    ],
)
def test_the_reference_library_verifies_our_signature(configured, receiver_secret) -> None:
    now = int(utc_now().timestamp())
    headers = signed_headers(secret_key(configured), "msg_1", now, BODY)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(receiver_secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver_secret).verify(BODY + b" ", headers)  # a changed body fails
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another secret").verify(BODY, headers)


def test_a_delivery_is_retried_on_schedule_then_given_up() -> None:
    now = utc_now()
    delivery = Delivery(
        id="msg_1",
        job_id="j",
        user_id="u",
        event="job.failed",
        url="http://x",
        payload="{}",
        created_at=now,
        next_attempt_at=now,
    )
    schedule = (5.0, 60.0)
    delivery = after_attempt(
        delivery, Attempt(number=1, at=now, status_code=500), schedule=schedule, now=now
    )
    assert (delivery.state, delivery.next_attempt_at) == ("pending", now + timedelta(seconds=5))
    delivery = after_attempt(
        delivery, Attempt(number=2, at=now, error="refused"), schedule=schedule, now=now
    )
    assert delivery.next_attempt_at == now + timedelta(seconds=60)
    delivered = after_attempt(
        delivery, Attempt(number=3, at=now, status_code=204), schedule=schedule, now=now
    )
    assert (delivered.state, delivered.next_attempt_at) == ("delivered", None)
    failed = after_attempt(
        delivery, Attempt(number=3, at=now, status_code=410), schedule=schedule, now=now
    )
    assert (failed.state, len(failed.attempts)) == ("failed", 3)
