"""What a revision of one scene costs next to the whole job it revises.

A 4-scene job at low quality, then revisions of scene 3 and of scene 2: wall time of each
(from its request to its stored video), and how many scenes each rendered for real and how
many came from the render cache (from `/scenes`: the attempts of that revision).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.stacks import bench_stack
from videogen.client import VideogenClient
from videogen.topics import find_topic

TOPIC = "Similar Triangles Theorem"  # the built-in model plans four scenes for it
REVISIONS = ((3, "Show the words REVISED SCENE in large letters"), (2, "Add a closing remark"))


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _rendered(client: VideogenClient, job_id: str, revision: int) -> dict[str, int]:
    scenes = client.http.get(f"/api/v1/videos/jobs/{job_id}/scenes").json()["scenes"]
    attempts = [a for s in scenes for a in s["attempts"] if a["revision"] == revision]
    return {
        "rendered": sum(not a["cached"] for a in attempts),
        "from_cache": sum(a["cached"] for a in attempts),
    }


def run() -> dict[str, Any]:
    topic = find_topic(TOPIC)
    with bench_stack(DEFAULT_QUALITY="low") as stack:
        client = VideogenClient(stack.base_url)
        job_id = client.generate(topic.topic, topic.context, quality="low")["job_id"]
        final = list(client.watch(job_id, interval=0.1))[-1]
        assert final["status"] == "completed", final
        original = _seconds(final["completed_at"]) - _seconds(final["created_at"])
        revisions = []
        for scene, instruction in REVISIONS:
            number = client.revise(job_id, instruction, scene=scene)["revision"]
            done = list(client.watch(job_id, interval=0.1))[-1]
            record = done["revisions"][-1]
            assert record["status"] == "completed", record
            revisions.append(
                {
                    "revision": number,
                    "scene": scene,
                    "wall_seconds": round(
                        _seconds(record["completed_at"]) - _seconds(record["created_at"]), 2
                    ),
                    **_rendered(client, job_id, number),
                }
            )
    return {
        "topic": TOPIC,
        "quality": "low",
        "scenes": len(final["scenes"]),
        "original_wall_seconds": round(original, 2),
        "revisions": revisions,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
