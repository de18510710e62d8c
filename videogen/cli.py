"""`videogen`: run the stack, run one service, make a video, check a job."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from shared.broker import connect
from shared.history import read_job
from shared.replay import REPLAYABLE, ReplayRefused, replay
from shared.settings import Secret, Settings, load_settings
from shared.timeline import TimelineEntry, timeline
from videogen.client import ApiError, VideogenClient
from videogen.events import format_timeline
from videogen.natsconf import read_connection
from videogen.stack import SERVICES, start_stack
from videogen.topics import find_topic

console = Console(stderr=True)
DEFAULT_URL = os.environ.get("VIDEOGEN_URL", "http://127.0.0.1:8000")
DEMO_TOPIC = "The Pythagorean Theorem"
REPLAY_HELP = """\
Publish the most recent recorded event of one type again, so the stage that consumes
it runs again. Use it to retry a stage after fixing what broke (a model, a limit, a
dependency), or to re-run a stage while debugging.

  scene.coded          re-renders the scene's recorded code as the scene's next attempt
                       (a new message id), bypassing the render cache; the job is then
                       combined and stored again as a new revision of its video.
  scene.render_failed  asks the coder to repair the latest attempt; the repair is the
                       next attempt. Past MAX_FIX_ATTEMPTS the coder fails the job.
  others               are published as recorded under a fresh message id.

Stages skip finished jobs, so a completed or failed job is refused unless --reopen
puts its view back to processing at the replayed stage (a compare-and-set update;
a cancelled job stays cancelled). Outputs that name a new attempt or revision are new;
outputs identical to the original run's keep their logical ids, and JetStream drops
them within its 10-minute de-duplication window.
"""


NATS_URL_HELP = (
    "default: NATS_URL when set, else the stack `videogen up` runs with this DATA_DIR "
    "(it records its address in DATA_DIR/nats/connection.json)"
)


class BusUnreachable(Exception):
    """The CLI found no NATS to talk to; the message says where it looked."""


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        sys.exit(args.run(args) or 0)
    except ApiError as exc:
        _print_api_error(exc)
        sys.exit(1)
    except httpx.TransportError as exc:
        url = getattr(args, "url", DEFAULT_URL)
        console.print(
            f"[red]cannot reach the gateway at {url}:[/] {exc}\n"
            "start the stack with `videogen up` (or pass --url / set VIDEOGEN_URL)"
        )
        sys.exit(1)
    except BusUnreachable as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videogen", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="command")

    up = commands.add_parser("up", help="start NATS and every service; Ctrl-C stops them")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", "var")))
    up.set_defaults(run=_up)

    worker = commands.add_parser("worker", help="run one service (for compose and k8s)")
    worker.add_argument("service", choices=SERVICES)
    worker.set_defaults(run=_worker)

    generate = commands.add_parser("generate", help="make a video through the REST API")
    generate.add_argument("topic")
    generate.add_argument("--context", required=True, help="what the video should explain")
    _add_job_options(generate)
    generate.set_defaults(run=_generate)

    status = commands.add_parser("status", help="show a job's status")
    status.add_argument("job_id")
    _add_client_options(status)
    status.set_defaults(run=_status)

    demo = commands.add_parser(
        "demo", help="start the stack, make one video from the built-in topics, stop"
    )
    demo.add_argument("--topic", default=DEMO_TOPIC, help="a built-in topic name or prefix")
    demo.add_argument("--quality", default="low", choices=("low", "medium", "high", "ultra"))
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", "var")))
    demo.add_argument("-o", "--output", type=Path)
    demo.set_defaults(run=_demo)

    events = commands.add_parser("events", help="print a job's recorded events in order")
    events.add_argument("job_id")
    events.add_argument("--nats-url", help=NATS_URL_HELP)
    _add_gateway_options(events)
    events.set_defaults(run=_events)

    replay = commands.add_parser(
        "replay",
        help="publish a job's recorded stage input again, so that stage runs again",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=REPLAY_HELP,
    )
    replay.add_argument("job_id")
    replay.add_argument(
        "--from",
        dest="event_type",
        required=True,
        choices=REPLAYABLE,
        metavar="EVENT",
        help="the recorded event type to publish again: " + ", ".join(REPLAYABLE),
    )
    replay.add_argument("--scene", type=int, help="the scene, for scene events")
    replay.add_argument(
        "--reopen",
        action="store_true",
        help="put a completed or failed job back to processing first",
    )
    replay.add_argument("--nats-url", help=NATS_URL_HELP)
    _add_gateway_options(replay)
    replay.set_defaults(run=_replay)
    return parser


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help="gateway URL (env VIDEOGEN_URL)")
    parser.add_argument("--api-key", default=os.environ.get("VIDEOGEN_API_KEY"))


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    """`--url`: through the gateway's REST routes instead of the bus (no NATS access needed)."""
    parser.add_argument("--url", help="a gateway URL: go through its REST API, not NATS")
    parser.add_argument("--api-key", default=os.environ.get("VIDEOGEN_API_KEY"))


def _add_job_options(parser: argparse.ArgumentParser) -> None:
    _add_client_options(parser)
    parser.add_argument("--quality", choices=("low", "medium", "high", "ultra"))
    parser.add_argument("--model", help="overrides SCENE_MODEL for this job")
    parser.add_argument("-o", "--output", type=Path, help="where to save the MP4")


def _up(args: argparse.Namespace) -> None:
    console.print(f"starting videogen (data in {args.data_dir}) …")
    stack = start_stack(args.data_dir, port=args.port)
    console.print(
        f"[green]ready[/] at {stack.base_url}  (docs: {stack.base_url}/docs, "
        f"logs: {stack.data_dir / 'logs'})\nCtrl-C stops everything."
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(1.0):
            stack.supervise(lambda line: console.print(f"[yellow]{line}[/]"))
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping services, then NATS …")
        stack.stop(console.print)


def _worker(args: argparse.Namespace) -> None:
    importlib.import_module(f"services.{args.service}.__main__").main()


def _generate(args: argparse.Namespace) -> int:
    client = VideogenClient(args.url, api_key=args.api_key)
    options = {k: v for k, v in (("quality", args.quality), ("model", args.model)) if v}
    return _make_video(client, args.topic, args.context, options, args.output)


def _status(args: argparse.Namespace) -> None:
    client = VideogenClient(args.url, api_key=args.api_key)
    print(json.dumps(client.status(args.job_id), indent=2))


def _events(args: argparse.Namespace) -> int:
    async def read() -> list[TimelineEntry]:
        connection = await _connect_bus(args.nats_url)
        try:
            return timeline(await read_job(connection.jetstream(), args.job_id))
        finally:
            await connection.close()

    if args.url:
        body = VideogenClient(args.url, api_key=args.api_key).events(args.job_id)
        entries = msgspec.convert(body["events"], list[TimelineEntry])
    else:
        entries = asyncio.run(read())
    if not entries:
        console.print(f"[red]no events recorded for job {args.job_id}[/]")
        return 1
    print(format_timeline(entries))
    return 0


def _replay(args: argparse.Namespace) -> int:
    if args.url:
        return _replay_through_gateway(args)

    async def publish() -> int:
        connection = await _connect_bus(args.nats_url)
        try:
            done = await replay(
                connection.jetstream(),
                args.job_id,
                args.event_type,
                scene=args.scene,
                reopen=args.reopen,
            )
        except ReplayRefused as exc:
            console.print(f"[red]not replayed:[/] {exc}")
            return 2
        finally:
            await connection.close()
        attempt = getattr(done.event, "attempt", None)
        console.print(
            f"published {done.event.type} as stream message {done.sequence}"
            + (f", attempt {attempt}" if attempt is not None else "")
            + (" (job reopened)" if done.reopened else "")
        )
        print(done.message_id)
        return 0

    return asyncio.run(publish())


def _replay_through_gateway(args: argparse.Namespace) -> int:
    client = VideogenClient(args.url, api_key=args.api_key)
    try:
        done = client.replay(args.job_id, args.event_type, scene=args.scene, reopen=args.reopen)
    except ApiError as exc:
        if exc.status != 409:
            raise
        console.print(f"[red]not replayed:[/] {exc.body['error']['message']}")
        return 2
    console.print(
        f"published {done['event_type']} as stream message {done['sequence']}"
        + (f", attempt {done['attempt']}" if done["attempt"] is not None else "")
        + (" (job reopened)" if done["reopened"] else "")
    )
    print(done["message_id"])
    return 0


def bus_settings(nats_url: str | None = None) -> Settings:
    """Where the CLI finds the bus: --nats-url, else NATS_URL (with NATS_USER and
    NATS_PASSWORD), else what a `videogen up` with this DATA_DIR recorded, else the
    default port."""
    settings = load_settings()
    if nats_url:
        return load_settings(nats_url=nats_url)
    if "NATS_URL" in os.environ:
        return settings
    record = read_connection(settings.data_dir)
    if record is None:
        return settings
    return load_settings(
        nats_url=record["url"],
        nats_user=record.get("user", ""),
        nats_password=Secret(record.get("password", "")),
    )


async def _connect_bus(nats_url: str | None) -> Client:
    settings = bus_settings(nats_url)
    seen: list[Exception] = []

    async def remember(error: Exception) -> None:  # reported once, below, not per attempt
        seen.append(error)

    try:
        return await connect(settings, max_reconnect_attempts=1, error_cb=remember)
    except (OSError, TimeoutError, NatsError) as exc:
        cause = seen[-1] if seen else exc
        raise BusUnreachable(
            f"cannot reach NATS at {settings.nats_url}: {cause or type(cause).__name__}\n"
            f"start the stack with `videogen up` (with the same DATA_DIR, here "
            f"{settings.data_dir}), or set NATS_URL"
        ) from exc


def _demo(args: argparse.Namespace) -> int:
    topic = find_topic(args.topic)
    console.print(f"starting videogen (data in {args.data_dir}) …")
    stack = start_stack(args.data_dir, port=args.port)
    try:
        client = VideogenClient(stack.base_url)
        output = args.output or args.data_dir / "demo" / f"{_slug(topic.topic)}.mp4"
        return _make_video(client, topic.topic, topic.context, {"quality": args.quality}, output)
    finally:
        stack.stop()


def _make_video(
    client: VideogenClient, topic: str, context: str, options: dict[str, Any], output: Path | None
) -> int:
    job = client.generate(topic, context, **options)
    job_id = job["job_id"]
    console.print(f"job [bold]{job_id}[/] queued: {topic}")
    final = _follow(client, job_id)
    if final["status"] != "completed":
        _print_job_error(final)
        return 1
    target = output or Path(f"{_slug(topic)}.mp4")
    client.download(job_id, target)
    console.print(f"[green]video saved:[/] {target.resolve()}")
    if final.get("voice"):
        console.print(f"narrated by {final['voice']}")
    print(target.resolve())
    return 0


def _follow(client: VideogenClient, job_id: str) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("queued", total=100)
        for status in client.watch(job_id):
            stage = status["progress"]["current_stage"]
            scenes = status.get("scenes") or []
            done = sum(1 for scene in scenes if scene.get("status") == "rendered")
            label = f"{stage} {done}/{len(scenes)}" if stage == "rendering" and scenes else stage
            progress.update(bar, completed=status["progress"]["percentage"], description=label)
    return status


def _print_job_error(status: dict[str, Any]) -> None:
    error = status.get("error") or {}
    where = f" at {error['stage']}: {error['code']}: {error['message']}" if error else ""
    console.print(f"[red]job {status['status']}[/]{where}")
    if error.get("suggestion"):
        console.print(f"suggestion: {error['suggestion']}")


def _print_api_error(exc: ApiError) -> None:
    console.print(f"[red]request failed:[/] {exc}")
    with contextlib.suppress(AttributeError, TypeError):
        for item in exc.body["error"]["details"]["field_errors"]:
            console.print(f"  {item['field']}: {item['message']}")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "video"
