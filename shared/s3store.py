"""The S3 half of video storage: any S3-compatible server through the MinIO SDK.

The SDK blocks, so every call runs in a worker thread (`asyncio.to_thread`) and the
service's event loop keeps serving heartbeats and other jobs. The SDK's own urllib3
retries are turned off: the storage service owns the retry policy (STORAGE_MAX_RETRIES),
and two nested retry loops would multiply attempts and hide them from the job record.
Library errors become `TransientError` / `PermanentError` here and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error, ServerError

from shared.errors import PermanentError, StageError, TransientError
from shared.settings import Settings
from shared.videostore import READ_CHUNK_BYTES, StoredObject, VideoStore

T = TypeVar("T")

PART_SIZE_BYTES = 16 * 1024 * 1024  # files above this go up as a multipart upload
_META_PREFIX = "x-amz-meta-"
_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"})
_DENIED = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AllAccessDisabled",
        "AccountProblem",
        "InvalidToken",
        "ExpiredToken",
    }
)
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_REACH_SUGGESTION = (
    "Check that S3_ENDPOINT_URL is reachable and the S3 server is healthy; the upload is "
    "retried STORAGE_MAX_RETRIES times."
)


class S3VideoStore:
    """Objects in one bucket; keys are the same as local paths under DATA_DIR."""

    fallback: VideoStore | None = None

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        create_bucket: bool,
        presigner: Minio | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.create_bucket = create_bucket
        self.presigner = presigner or client  # signs URLs with the host clients can reach
        self._bucket_ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> S3VideoStore:
        return cls(
            _client(settings, settings.s3_endpoint_url),
            settings.s3_bucket,
            create_bucket=settings.s3_create_bucket,
            presigner=_client(settings, settings.s3_public_url) if settings.s3_public_url else None,
        )

    async def save(
        self,
        key: str,
        source: Path,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        await self._ensure_bucket()
        await self._call(
            "upload",
            key,
            self.client.fput_object,
            self.bucket,
            key,
            str(source),
            content_type=content_type,
            metadata=dict(metadata or {}),
            part_size=PART_SIZE_BYTES,
            num_parallel_uploads=2,
        )
        stored = await self.stat(key)
        if stored is None:
            raise TransientError(
                f"{key} is missing right after its upload",
                code="STORAGE_UPLOAD_FAILED",
                suggestion=_REACH_SUGGESTION,
            )
        return stored

    async def stat(self, key: str) -> StoredObject | None:
        try:
            info = await self._call("stat", key, self.client.stat_object, self.bucket, key)
        except PermanentError as exc:
            if (exc.details or {}).get("s3_code") in _MISSING:
                return None
            raise
        return StoredObject(
            key=key,
            size=info.size or 0,
            modified=info.last_modified or datetime.fromtimestamp(0, UTC),
            etag=f'"{info.etag}"',
            content_type=info.content_type or "application/octet-stream",
            metadata={
                name.lower().removeprefix(_META_PREFIX): value
                for name, value in (info.metadata or {}).items()
                if name.lower().startswith(_META_PREFIX)
            },
        )

    def local_path(self, key: str) -> None:
        return None

    async def open_range(self, key: str, first: int, last: int) -> AsyncGenerator[bytes, None]:
        try:
            response = await self._call(
                "download",
                key,
                self.client.get_object,
                self.bucket,
                key,
                offset=first,
                length=last - first + 1,
            )
        except PermanentError as exc:
            if (exc.details or {}).get("s3_code") in _MISSING:
                raise FileNotFoundError(key) from exc
            raise
        try:
            while chunk := await self._call("download", key, response.read, READ_CHUNK_BYTES):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    def presigned_get(self, key: str, *, expires: timedelta, disposition: str | None = None) -> str:
        # Signing is local arithmetic once the region is known (it is always configured).
        headers: dict[str, str | list[str] | tuple[str]] | None = (
            {"response-content-disposition": disposition} if disposition else None
        )
        return self.presigner.presigned_get_object(
            self.bucket, key, expires=expires, response_headers=headers
        )

    def locations(self, key: str) -> dict[str, str]:
        return {"s3": f"s3://{self.bucket}/{key}"}

    async def delete_prefix(self, prefix: str) -> int:
        folder = prefix.rstrip("/") + "/"  # job "ab" must not take job "abc" with it
        return await self._call("delete", folder, self._delete_folder, folder)

    def _delete_folder(self, folder: str) -> int:
        keys = [
            item.object_name
            for item in self.client.list_objects(self.bucket, prefix=folder, recursive=True)
            if item.object_name is not None
        ]
        errors = list(self.client.remove_objects(self.bucket, (DeleteObject(k) for k in keys)))
        if errors:
            raise TransientError(
                f"S3 kept {len(errors)} of {len(keys)} objects under {folder}: "
                f"{errors[0].code}: {errors[0].message}",
                code="STORAGE_DELETE_FAILED",
                suggestion=_REACH_SUGGESTION,
            )
        return len(keys)

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        exists = await self._call(
            "bucket check", self.bucket, self.client.bucket_exists, self.bucket
        )
        if not exists:
            if not self.create_bucket:
                raise PermanentError(
                    f"S3 bucket {self.bucket!r} does not exist",
                    code="STORAGE_BUCKET_MISSING",
                    suggestion="Create the bucket, or set S3_CREATE_BUCKET=true.",
                )
            await self._call("bucket creation", self.bucket, self.client.make_bucket, self.bucket)
        self._bucket_ready = True

    async def _call(
        self, operation: str, key: str, function: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except ValueError as exc:  # the SDK's argument checks: a bad bucket or key name
            raise PermanentError(
                f"S3 {operation} of {key} refused by the client: {exc}",
                code="STORAGE_MISCONFIGURED",
                suggestion="Check S3_BUCKET and the key.",
            ) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate(exc, operation=operation, key=key) from exc


def translate(exc: Exception, *, operation: str, key: str) -> StageError:
    """One library error as the stage error it means: retry later, or fix something first."""
    details: dict[str, Any] = {"operation": operation, "key": key}
    code = "STORAGE_UPLOAD_FAILED" if operation == "upload" else "STORAGE_UNAVAILABLE"
    if isinstance(exc, S3Error):
        status = exc.response.status if exc.response is not None else None
        details.update(s3_code=exc.code, http_status=status)
        message = f"S3 {operation} of {key} failed: {exc.code}: {exc.message}"
        if exc.code in _DENIED:
            return PermanentError(
                message,
                code="STORAGE_ACCESS_DENIED",
                details=details,
                suggestion="Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket "
                "policy: the credentials must allow reading and writing S3_BUCKET.",
            )
        if exc.code == "NoSuchBucket":
            return PermanentError(
                message,
                code="STORAGE_BUCKET_MISSING",
                details=details,
                suggestion="Create S3_BUCKET, or set S3_CREATE_BUCKET=true.",
            )
        if status in _RETRYABLE_STATUS or exc.code in ("SlowDown", "RequestTimeout"):
            return TransientError(message, code=code, details=details, suggestion=_REACH_SUGGESTION)
        return PermanentError(
            message,
            code=code,
            details=details,
            suggestion="The S3 server refused the request; see the error.",
        )
    if isinstance(exc, ServerError):
        details["http_status"] = exc.status_code
    # A 5xx without an S3 body, a proxy's error page, or the network/server being down
    # (refused, reset, timed out, DNS): all worth another try later.
    reason = getattr(exc, "reason", None) or exc
    return TransientError(
        f"S3 {operation} of {key} failed: {type(reason).__name__}: {reason}",
        code=code,
        details=details,
        suggestion=_REACH_SUGGESTION,
    )


def _client(settings: Settings, endpoint_url: str) -> Minio:
    endpoint = urlsplit(endpoint_url)
    secure = endpoint.scheme == "https"
    return Minio(
        endpoint.netloc,
        access_key=settings.aws_access_key_id,
        secret_key=settings.aws_secret_access_key.reveal(),
        secure=secure,
        region=settings.s3_region,
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=10, read=120),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",  # system CAs (and SSL_CERT_FILE) when https
            retries=urllib3.Retry(total=0, redirect=0, raise_on_redirect=False),
        ),
    )
