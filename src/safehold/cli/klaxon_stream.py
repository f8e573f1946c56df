"""`safehold klaxon publish` and `safehold klaxon worker`: contact events over NATS
JetStream, screened by a worker that stores alerts before it acknowledges."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from safehold.cli.console import console, err_console, fail
from safehold.klaxon.events import ClockLimits, EventInputError, read_events
from safehold.klaxon.flags import FlagError
from safehold.klaxon.nats_stream import (
    DEFAULT_PREFIX,
    DEFAULT_STREAM,
    NatsUnreachableError,
    ScreeningWorker,
    Subjects,
    connect,
    ensure_stream,
    publish_events,
)
from safehold.klaxon.rules import RulesFileError, load_rules


def _say(message: str) -> None:
    err_console.print(f"[yellow]{message}[/]", highlight=False)


def publish(
    events: Annotated[Path, typer.Argument(metavar="EVENTS.parquet", help="Contact events.")],
    member: Annotated[str, typer.Option(help="The member whose events these are.")],
    nats_url: Annotated[
        str, typer.Option("--nats", help="NATS server URL.")
    ] = "nats://127.0.0.1:4222",
    partitions: Annotated[int, typer.Option(help="Partitions (by a hash of the sender).")] = 8,
    per_message: Annotated[int, typer.Option(help="Events per message.")] = 2000,
    stream: Annotated[str, typer.Option(help="JetStream stream name.")] = DEFAULT_STREAM,
    prefix: Annotated[str, typer.Option(help="Subject prefix.")] = DEFAULT_PREFIX,
    attempts: Annotated[int, typer.Option(help="Connection attempts before giving up.")] = 10,
) -> None:
    """Publish contact events to JetStream, many per message, partitioned by sender."""
    if partitions < 1 or per_message < 1:
        fail("--partitions and --per-message must be at least 1")
    try:
        frame = read_events(events)
    except EventInputError as exc:
        fail(str(exc))
    if "sender_account" not in frame.columns or "event_id" not in frame.columns:
        fail(f"{events}: needs the member layout's contact_events columns")

    async def run() -> int:
        client = await connect(nats_url, attempts=attempts, say=_say)
        try:
            js = client.jetstream()
            await ensure_stream(js, stream, prefix)
            return await publish_events(
                js, Subjects(prefix, member), frame, partitions=partitions, per_message=per_message
            )
        finally:
            await client.drain()

    started = time.perf_counter()
    try:
        sent = asyncio.run(run())
    except NatsUnreachableError as exc:
        fail(str(exc), code=3)
    console.print(
        f"published {frame.height:,} events of {member} in {sent:,} messages to "
        f"{Subjects(prefix, member).events_filter} (stream {stream}) in "
        f"{time.perf_counter() - started:.1f}s"
    )


def worker(
    flags_dir: Annotated[Path, typer.Option("--flags", help="The member's flags folder.")],
    store: Annotated[Path, typer.Option(help="SQLite file for alerts and progress.")],
    nats_url: Annotated[
        str, typer.Option("--nats", help="NATS server URL.")
    ] = "nats://127.0.0.1:4222",
    rules_path: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Rules file (default: the packaged rules); read again when it changes, "
            "and a file with an error is refused while the rules in force stay.",
        ),
    ] = None,
    stream: Annotated[str, typer.Option(help="JetStream stream name.")] = DEFAULT_STREAM,
    prefix: Annotated[str, typer.Option(help="Subject prefix.")] = DEFAULT_PREFIX,
    durable: Annotated[str, typer.Option(help="Durable consumer name.")] = "klaxon",
    attempts: Annotated[int, typer.Option(help="Connection attempts before giving up.")] = 10,
    idle_exit: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without messages.")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="The time to judge clock skew against (default: now).")
    ] = None,
    ack_wait: Annotated[
        float,
        typer.Option(help="Seconds before an unacknowledged message is delivered again."),
    ] = 10.0,
    webhook: Annotated[
        str | None, typer.Option(help="Also POST alerts here, signed (HMAC-SHA256).")
    ] = None,
    webhook_secret_file: Annotated[
        Path | None, typer.Option(help="File holding the webhook's shared secret.")
    ] = None,
    hub: Annotated[
        str | None,
        typer.Option(help="Also deliver alerts to this hub's alerts tier (POST /v1/alerts)."),
    ] = None,
    hub_key_file: Annotated[
        Path | None, typer.Option(help="File holding this member's hub API key.")
    ] = None,
    max_batch: Annotated[
        int, typer.Option(help="Messages screened together when that many are waiting.")
    ] = 16,
) -> None:
    """Screen contact events from JetStream; store alerts, then acknowledge."""
    try:
        rules = load_rules(rules_path)
    except RulesFileError as exc:
        fail(str(exc))
    from safehold.cli.klaxon import clock_limits

    limits = clock_limits(now)
    hook: tuple[str, bytes] | None = None
    if webhook is not None:
        if webhook_secret_file is None or not webhook_secret_file.is_file():
            fail("--webhook needs --webhook-secret-file, a file holding the shared secret")
        secret = webhook_secret_file.read_bytes().strip()
        if len(secret) < 16:
            fail(f"{webhook_secret_file}: the webhook secret must be at least 16 bytes")
        hook = (webhook, secret)
    hub_target: tuple[str, str] | None = None
    if hub is not None:
        if hub_key_file is None or not hub_key_file.is_file():
            fail("--hub needs --hub-key-file, a file holding this member's hub API key")
        hub_key = hub_key_file.read_text().strip()
        if not hub_key:
            fail(f"{hub_key_file} is empty: put this member's hub API key in it")
        hub_target = (hub, hub_key)
    if not 1 <= max_batch <= 1000:
        fail("--max-batch must be between 1 and 1000")
    try:
        screening = ScreeningWorker(
            flags_dir=flags_dir,
            rules=rules,
            store_path=store,
            clock=(lambda: limits) if now is not None else ClockLimits.wall_clock,
            webhook=hook,
            say=_say,
            rules_path=rules_path,
            hub=hub_target,
            max_batch=max_batch,
        )
    except FlagError as exc:
        fail(str(exc))
    subjects = Subjects(prefix, screening.flags.current.member_id)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: setattr(screening, "stopping", True))
        await screening.run(
            nats_url,
            subjects=subjects,
            stream=stream,
            durable=durable,
            attempts=attempts,
            idle_exit=idle_exit,
            say=_say,
            ack_wait=ack_wait,
        )

    console.print(
        f"screening {subjects.events_filter} (stream {stream}, consumer {durable}); alerts in "
        f"{store}, dead letters to {subjects.dead_letter}"
    )
    try:
        asyncio.run(run())
    except NatsUnreachableError as exc:
        fail(str(exc), code=3)
    report = screening.report
    console.print(
        f"stopped: {report.messages:,} messages screened, {report.replayed:,} redelivered "
        f"after a restart (already stored), {report.dead_letters:,} dead-lettered, "
        f"{report.alerts_changed:,} alerts new or changed"
        + (
            f", rules reloaded {report.rules_reloads:,} times "
            f"({report.rules_reload_errors:,} files refused)"
            if rules_path is not None
            else ""
        )
        + (
            f", {report.webhook_deliveries:,} webhook deliveries "
            f"({report.webhook_failures:,} failed and retried)"
            if hook is not None
            else ""
        )
        + (
            f", {report.hub_deliveries:,} hub deliveries ({report.hub_new:,} alerts new at "
            f"the hub, {report.hub_failures:,} failed and retried)"
            if hub_target is not None
            else ""
        )
    )
