"""Storage settings: S3 modes name what they miss, and the secret never prints."""

from __future__ import annotations

import pytest

from shared.settings import SettingsError, load_settings

S3 = {
    "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "S3_BUCKET": "videos",
    "AWS_ACCESS_KEY_ID": "id",
    "AWS_SECRET_ACCESS_KEY": "very-secret",
}


def test_s3_modes_name_every_missing_variable():
    with pytest.raises(SettingsError) as caught:
        load_settings({"VIDEO_STORAGE_MODE": "local_and_s3", "S3_BUCKET": "videos"})
    message = str(caught.value)
    assert "S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in message
    assert "S3_BUCKET," not in message


def test_bad_endpoint_and_bucket_are_named():
    with pytest.raises(SettingsError) as caught:
        load_settings({**S3, "S3_ENDPOINT_URL": "minio:9000", "S3_BUCKET": "No_Such"})
    assert "S3_ENDPOINT_URL='minio:9000'" in str(caught.value)
    assert "S3_BUCKET='No_Such'" in str(caught.value)


def test_secret_stays_out_of_reprs_and_strings():
    settings = load_settings({**S3, "VIDEO_STORAGE_MODE": "s3_only"})
    assert settings.aws_secret_access_key.reveal() == "very-secret"
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in f"{settings.aws_secret_access_key}"


def test_storage_defaults():
    settings = load_settings({})
    assert (settings.storage_max_retries, settings.s3_url_expiry_seconds) == (3, 900)
    assert (settings.s3_serve_mode, settings.s3_create_bucket) == ("presign", True)
    assert not settings.storage_cleanup and not settings.s3_fallback_to_local
