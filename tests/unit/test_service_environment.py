"""Which variables each service gets (shared/settings.py) and what its NATS user may do
(shared/access.py): the tables `videogen up`, compose and k8s follow."""

from __future__ import annotations

from dataclasses import fields

import pytest

from shared import subjects
from shared.access import ACCESS, SERVICE_USERS, permissions
from shared.broker import CONSUMERS
from shared.settings import (
    SERVICES,
    Secret,
    Settings,
    SettingsError,
    load_settings,
    service_environment,
    services_of,
)

SHELL = {
    "PATH": "/usr/bin",
    "HOME": "/home/me",
    "LC_ALL": "C.UTF-8",
    "OPENAI_API_KEY": "sk-live",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "API_KEYS": "key:alice",
    "VIDEO_STORAGE_MODE": "s3_only",
    "GITHUB_TOKEN": "ghp-not-a-setting",
    "DEFAULT_QUALITY": "low",
}


def test_the_renderer_gets_no_key_of_anyone():
    env = service_environment("renderer", SHELL)
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "LC_ALL": "C.UTF-8",
        "DEFAULT_QUALITY": "low",
    }


def test_keys_go_to_the_services_that_use_them():
    assert "OPENAI_API_KEY" in service_environment("coder", SHELL)
    assert "OPENAI_API_KEY" not in service_environment("gateway", SHELL)
    assert {"AWS_SECRET_ACCESS_KEY", "VIDEO_STORAGE_MODE"} <= set(
        service_environment("storage", SHELL)
    )
    for stage in ("planner", "coder", "renderer", "storage"):
        assert "API_KEYS" not in service_environment(stage, SHELL)  # the gateway's only
    assert all("GITHUB_TOKEN" not in service_environment(s, SHELL) for s in SERVICES)


def test_every_credential_is_scoped():
    """A new secret setting must say who gets it; only the NATS password goes to all
    (each service gets its own)."""
    for spec in fields(Settings):
        name = spec.metadata["env"]
        if spec.type in (Secret, "Secret") and name != "NATS_PASSWORD":
            assert services_of(name) != SERVICES, f"{name}: give it services=…"


def test_a_stage_without_s3_settings_starts_although_the_stack_stores_in_s3():
    env = service_environment("renderer", {**SHELL, "S3_BUCKET": "videos"})
    load_settings(env)  # would raise: s3_only needs keys the renderer must not have
    with pytest.raises(SettingsError):
        load_settings({"VIDEO_STORAGE_MODE": "s3_only"})


def test_nats_url_takes_a_list_and_no_credentials():
    settings = load_settings({"NATS_URL": "nats://a:4222, nats://b:4222,nats://c:4222"})
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
    with pytest.raises(SettingsError, match="NATS_USER"):
        load_settings({"NATS_URL": "nats://u:p@a:4222"})
    assert load_settings({"NATS_MAX_STORE": "512MB"}).nats_max_store == 512 * 2**20
    with pytest.raises(SettingsError, match="NATS_MAX_STORE"):
        load_settings({"NATS_MAX_STORE": "lots"})


def test_every_service_is_a_user_and_permissions_come_from_the_table():
    assert set(SERVICE_USERS) == set(SERVICES) <= set(ACCESS)
    renderer = permissions("renderer")
    publish, subscribe = renderer["publish"]["allow"], renderer["subscribe"]["allow"]
    assert subjects.events_of_type("job.requested") not in publish
    assert subjects.bucket_subjects(subjects.JOBS_BUCKET) not in publish  # reads only
    assert not any(subjects.IDEMPOTENCY_BUCKET in subject for subject in publish)
    assert subjects.bucket_subjects(subjects.LEDGER_BUCKET) in publish
    assert subscribe == ["_INBOX.renderer.>", subjects.events_of_type("job.cancelled")]
    assert not any(
        subject.startswith(("$JS.API.STREAM.CREATE", "$JS.API.STREAM.UPDATE"))
        for user in SERVICE_USERS
        if user != "gateway"
        for subject in permissions(user)["publish"]["allow"]
    )


def test_every_bus_name_has_an_owner():
    """A new bucket, object store or durable must get a row in shared/access.py, or the
    service that uses it meets a permissions violation under `videogen up`."""
    constants = {value for name, value in vars(subjects).items() if name.endswith("_BUCKET")}
    assert constants == set(subjects.BUCKETS)
    written = {bucket for access in ACCESS.values() for bucket in access.writes}
    assert set(subjects.BUCKETS) <= written
    consumed = [durable for user in SERVICE_USERS for durable in ACCESS[user].consumes]
    assert sorted(consumed) == sorted(CONSUMERS)
