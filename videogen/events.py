"""The CLI side of `videogen events` and `videogen replay`: print a job's timeline.

The timeline rows come from `shared.timeline`, read over the bus or through the gateway
(`--url`), so both ways print the same table.
"""

from __future__ import annotations

from datetime import UTC

from shared.timeline import TimelineEntry

HEADER = ("seq", "time (UTC)", "event", "stage", "scene", "attempt", "+seconds", "detail")


def format_timeline(entries: list[TimelineEntry]) -> str:
    """The timeline as an aligned table: time, event, stage, scene, attempt, +since previous."""
    rows = [HEADER]
    for entry in entries:
        since = entry.seconds_since_previous
        rows.append(
            (
                str(entry.sequence),
                entry.stored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                entry.event_type,
                entry.stage,
                "" if entry.scene is None else str(entry.scene),
                "" if entry.attempt is None else str(entry.attempt),
                "" if since is None else f"{since:.3f}",
                entry.detail,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    )
