"""What routes depend on: the connected gateway, the caller, and the caller's job.

Routes receive these through FastAPI dependencies, never through module globals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.js.kv import KeyValue

from services.gateway.auth import authenticate
from services.gateway.conditions import Conditions
from services.gateway.errors import not_found
from services.gateway.integrity import IntegrityChecker
from services.gateway.outage import require_connected
from services.gateway.workload import Workload
from shared.jobview import JobView
from shared.service import StageDeps
from shared.videostore import VideoStore

# Only ids the gateway could have minted reach the job store: anything else in a job-id
# segment is a 404 before any lookup, never a key or a path.
_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Gateway:
    """The connected pieces one gateway process serves requests with."""

    deps: StageDeps
    store: VideoStore
    idempotency: KeyValue
    workload: Workload
    integrity: IntegrityChecker = field(default_factory=IntegrityChecker)
    conditions: Conditions = field(default_factory=Conditions)


def gateway(request: Request) -> Gateway:
    """The connected gateway; 503 at once while NATS is reconnecting."""
    app: Gateway = request.app.state.gateway
    require_connected(app.deps)
    return app


# auto_error=False: the 401 (with WWW-Authenticate) is ours; this only documents the scheme.
_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    presented = credentials.credentials if credentials else None
    return authenticate(request.app.state.gateway.deps.settings.api_keys, presented)


def is_job_id(text: str) -> bool:
    return bool(_JOB_ID.match(text))


async def owned_job(
    job_id: Annotated[str, Path(description="The job's id (a UUID)")],
    user: Annotated[str, Depends(current_user)],
    app: Annotated[Gateway, Depends(gateway)],
) -> JobView:
    """The caller's job, or 404 — also for another user's job, whose existence stays hidden."""
    if not is_job_id(job_id):
        raise not_found()
    view = await app.deps.jobs.get(user, job_id)
    if view is None:
        raise not_found()
    return view


App = Annotated[Gateway, Depends(gateway)]
User = Annotated[str, Depends(current_user)]
OwnedJob = Annotated[JobView, Depends(owned_job)]
