"""POST /generate latency at a steady request rate (open loop), gateway + real NATS.

Only the gateway runs, so the number is the API's own cost: validation, the admission
check, the job view written to KV and the job.requested event acknowledged by JetStream.
The queue limits are lifted: with no planner running, every job stays queued.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from bench.stacks import bench_stack

RATE_PER_SECOND = 50
SECONDS = 10
BODY = {
    "configuration": {
        "topic": "The Pythagorean Theorem",
        "context": "a² + b² = c² for a right triangle.",
        "quality": "low",
    }
}


async def _fire(client: httpx.AsyncClient, latencies: list[float], errors: list[int]) -> None:
    started = time.perf_counter()
    response = await client.post("/api/v1/videos/generate", json=BODY)
    latencies.append((time.perf_counter() - started) * 1000)
    if response.status_code != 201:
        errors.append(response.status_code)


async def _load(base_url: str) -> dict[str, object]:
    latencies: list[float] = []
    errors: list[int] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(20):  # warm-up
            await client.post("/api/v1/videos/generate", json=BODY)
        interval = 1 / RATE_PER_SECOND
        start = time.perf_counter()
        tasks = []
        for n in range(RATE_PER_SECOND * SECONDS):
            await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
            tasks.append(asyncio.create_task(_fire(client, latencies, errors)))
        await asyncio.gather(*tasks)
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rate_per_second": RATE_PER_SECOND,
        "errors": len(errors),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


def run() -> dict[str, object]:
    unlimited = {"MAX_QUEUED_JOBS": "1000000", "MAX_QUEUED_JOBS_PER_USER": "1000000"}
    with bench_stack(services=("gateway",), **unlimited) as stack:
        return {"post_generate": asyncio.run(_load(stack.base_url))}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
