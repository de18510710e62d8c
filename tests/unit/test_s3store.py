"""S3 errors become the stage error they mean, once, at the store boundary."""

from __future__ import annotations

import urllib3
from minio.error import S3Error, ServerError

from shared.errors import PermanentError, TransientError
from shared.s3store import translate


def _s3_error(code: str) -> S3Error:
    return S3Error(None, code, "said the server", "/bucket/key", "req", "host")  # type: ignore[arg-type]


def test_access_denied_is_permanent_with_a_suggestion():
    error = translate(_s3_error("AccessDenied"), operation="upload", key="k")
    assert isinstance(error, PermanentError)
    assert error.code == "STORAGE_ACCESS_DENIED"
    assert "AWS_ACCESS_KEY_ID" in error.suggestion
    assert error.details == {
        "operation": "upload",
        "key": "k",
        "s3_code": "AccessDenied",
        "http_status": None,
    }


def test_missing_bucket_is_permanent():
    error = translate(_s3_error("NoSuchBucket"), operation="upload", key="k")
    assert isinstance(error, PermanentError) and error.code == "STORAGE_BUCKET_MISSING"


def test_throttling_server_errors_and_network_failures_are_transient():
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    for exc in (_s3_error("SlowDown"), ServerError("bad gateway", 502), refused):
        error = translate(exc, operation="upload", key="k")
        assert isinstance(error, TransientError), exc
        assert error.code == "STORAGE_UPLOAD_FAILED"
        assert "S3_ENDPOINT_URL" in error.suggestion
