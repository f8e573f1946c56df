"""NATS JetStream adapters: publish contact events partitioned by sender, and a worker
that screens them with the in-process stream and stores alerts before it acknowledges.

Why this shape: all events of a sender go to one partition subject (a CRC-32 of the
sender key), so one worker holds every window that sender's alerts depend on, and workers
scale out by partition. Many events travel per message (Arrow IPC). A message is
acknowledged only after its alerts and held events are stored (``WorkerStore``), so a
worker killed at any point loses nothing; a message delivered again is recognised by its
stream sequence, and alerts are keyed by id, so nothing is stored twice. A message that
cannot be read or fails the event checks is moved to the dead-letter subject, counted, and
acknowledged, so it never blocks the stream. Alerts new or changed by a message go to the
alerts subject after they are stored and before the ack, under a message id that JetStream
deduplicates; a message delivered again after a kill publishes its alerts again, so the
subject misses none (a second copy is dropped within the stream's duplicate window)."""

from __future__ import annotations

import asyncio
import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
import nats.errors
import nats.js.errors
import polars as pl
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from safehold.klaxon import engine
from safehold.klaxon.events import ClockLimits
from safehold.klaxon.flags import FlagStore
from safehold.klaxon.hub_delivery import HubDeliveryError, deliver_to_hub
from safehold.klaxon.model_flags import with_model_context
from safehold.klaxon.rules import RuleSet, RulesFileError, load_rules
from safehold.klaxon.stream import StreamScreen
from safehold.klaxon.webhook import WebhookDeliveryError, deliver
from safehold.klaxon.worker_store import WorkerStore

Say = Callable[[str], None]
DEFAULT_PREFIX = "safehold.contacts"
DEFAULT_STREAM = "SAFEHOLD_CONTACTS"


def _file_signature(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class PoisonMessageError(ValueError):
    """A message whose payload is not a batch of contact events."""


class NatsUnreachableError(ConnectionError):
    """NATS did not answer after every retry."""


@dataclass(frozen=True)
class Subjects:
    prefix: str
    member_id: str

    def events(self, partition: int) -> str:
        return f"{self.prefix}.events.{self.member_id}.p{partition}"

    @property
    def events_filter(self) -> str:
        return f"{self.prefix}.events.{self.member_id}.*"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}.dead.{self.member_id}"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts.{self.member_id}"


def partition_of(senders: pl.Series, partitions: int) -> pl.Series:
    """Partition per sender: CRC-32 of the key modulo ``partitions``; stable across
    processes and library versions (computed once per distinct sender)."""
    distinct = senders.unique()
    codes = [zlib.crc32(s.encode()) % partitions for s in distinct.to_list()]
    return senders.replace_strict(distinct, pl.Series(codes, dtype=pl.Int32))


def encode_batch(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def decode_batch(payload: bytes) -> pl.DataFrame:
    try:
        return pl.read_ipc(io.BytesIO(payload))
    except Exception as exc:
        raise PoisonMessageError(
            f"not an Arrow IPC batch of contact events ({type(exc).__name__})"
        ) from None


async def _quiet(_error: Exception) -> None:
    """The probe's failures are reported by ``connect`` itself, once per attempt."""


async def connect(url: str, *, attempts: int, say: Say, first_delay: float = 0.5) -> Client:
    """Connect, retrying with doubling delays (at most 30 s) and saying so each time."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            # A probe that fails fast (the client's own reconnect loop would retry the first
            # connection for ever), then the client that reconnects by itself once up.
            probe = await asyncio.wait_for(
                nats.connect(
                    url,
                    connect_timeout=2,
                    allow_reconnect=False,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0.1,
                    error_cb=_quiet,
                ),
                timeout=10,
            )
            await probe.close()
            return await nats.connect(
                url, connect_timeout=2, allow_reconnect=True, max_reconnect_attempts=-1
            )
        except (OSError, nats.errors.Error, TimeoutError) as exc:
            if attempt == attempts:
                break
            say(
                f"NATS at {url} is unreachable ({type(exc).__name__}); attempt {attempt} of "
                f"{attempts}, retrying in {delay:.1f}s"
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    raise NatsUnreachableError(
        f"NATS at {url} did not answer after {attempts} attempts; start it (nats-server -js) "
        "or check --nats"
    )


async def ensure_stream(js: JetStreamContext, name: str, prefix: str) -> None:
    """The stream that keeps events, dead letters and alerts under ``prefix``."""
    try:
        await js.stream_info(name)
    except nats.js.errors.NotFoundError:
        await js.add_stream(name=name, subjects=[f"{prefix}.>"], duplicate_window=120.0)


async def publish_events(
    js: JetStreamContext,
    subjects: Subjects,
    frame: pl.DataFrame,
    *,
    partitions: int,
    per_message: int,
) -> int:
    """Publish member-layout events (in time order) slice by slice, each slice split by
    partition, so that every partition's messages stay in time order and together about
    ``per_message`` events per message;
    each message has a deterministic id, so publishing again within the stream's
    duplicate window adds nothing. Returns the number of messages."""
    sent = 0
    futures = []
    span = per_message * partitions  # one time slice: about a message per partition
    for start in range(0, frame.height, span):
        piece = frame.slice(start, span)
        parts = piece.with_columns(
            partition_of(piece["sender_account"], partitions).alias("_partition")
        )
        for (partition,), group in parts.group_by("_partition", maintain_order=True):
            chunk = group.drop("_partition")
            msg_id = f"{subjects.member_id}:{chunk['event_id'][0]}:{chunk['event_id'][-1]}"
            futures.append(
                await js.publish_async(
                    subjects.events(int(partition)),
                    encode_batch(chunk),
                    headers={"Nats-Msg-Id": msg_id},
                )
            )
            sent += 1
    await asyncio.gather(*futures)
    return sent


@dataclass
class WorkerReport:
    messages: int = 0
    replayed: int = 0
    dead_letters: int = 0
    alerts_changed: int = 0
    webhook_deliveries: int = 0
    webhook_failures: int = 0
    groups: int = 0
    hub_deliveries: int = 0
    hub_failures: int = 0
    hub_new: int = 0
    rules_reloads: int = 0
    rules_reload_errors: int = 0
    notes: list[str] = field(default_factory=list)


class ScreeningWorker:
    """Pulls messages, screens them, stores, then acknowledges."""

    def __init__(
        self,
        *,
        flags_dir: Path,
        rules: RuleSet,
        store_path: Path,
        clock: Callable[[], ClockLimits] = ClockLimits.wall_clock,
        webhook: tuple[str, bytes] | None = None,
        say: Say | None = None,
        rules_path: Path | None = None,
        hub: tuple[str, str] | None = None,
        max_batch: int = 1,
    ) -> None:
        """``rules_path``: the file ``rules`` came from; it is read again when it changes
        (a file with an error is refused, said, and the rules in force stay). ``hub``: the
        hub's URL and this member's API key, to deliver alerts to the alerts tier.
        ``max_batch``: messages fetched and screened together when that many are waiting."""
        self.webhook = webhook
        self.hub = hub
        self.max_batch = max_batch
        self._http: httpx.AsyncClient | None = None
        self._say: Say = say or (lambda _message: None)
        self.flags = FlagStore(flags_dir)
        self.store = WorkerStore(store_path)
        self.screen = StreamScreen(self.flags, rules, clock=clock, stored_alerts=self.store.alerts)
        self.screen.restore(self.store.held(), self.store.alerts())
        engine.warm()  # before the first message, not during it
        self.rules_path = rules_path
        self._rules_signature = _file_signature(rules_path)
        self.report = WorkerReport()
        self.stopping = False

    def reload_rules_if_changed(self) -> bool:
        """Use the rules file again if it changed; a bad file is refused (said, counted)
        and the rules in force stay. True when new rules are now in force."""
        if self.rules_path is None:
            return False
        signature = _file_signature(self.rules_path)
        if signature == self._rules_signature:
            return False
        self._rules_signature = signature
        try:
            rules = load_rules(self.rules_path)
        except RulesFileError as exc:
            self.report.rules_reload_errors += 1
            self._say(f"{exc}; the rules in force stay")
            return False
        self.screen.use_rules(rules)
        self.report.rules_reloads += 1
        self._say(f"rules reloaded from {self.rules_path}: {len(rules.active)} rules active")
        return True

    async def handle(self, js: JetStreamContext, subjects: Subjects, msg: Msg) -> None:
        """One message (see ``handle_group``)."""
        await self.handle_group(js, subjects, [msg])

    async def handle_group(self, js: JetStreamContext, subjects: Subjects, msgs: list[Msg]) -> None:
        """Messages fetched together (in stream order): those stored before a kill are
        delivered again and acknowledged; the others are screened in one pass, their
        outcome stored in one transaction (filed under the last), then acknowledged, the
        last one last. A message that is not a batch, or fails the event checks, goes to
        the dead-letter subject on its own and never holds up the others."""
        fresh: list[tuple[Msg, int, pl.DataFrame]] = []
        for msg in msgs:
            sequence = msg.metadata.sequence.stream
            if self.store.is_processed(sequence):  # stored before a kill, never acknowledged
                await self._replay(js, subjects, msg, sequence)
                continue
            try:
                fresh.append((msg, sequence, decode_batch(msg.data)))
            except PoisonMessageError as exc:
                await self._dead_letter(js, subjects, msg, sequence, exc)
        if not fresh:
            return
        self.reload_rules_if_changed()
        changed, refused = self.screen.feed_many(
            [(frame, f"message {seq}", msg.subject) for msg, seq, frame in fresh]
        )
        for index, error in refused.items():
            msg, sequence, _ = fresh[index]
            await self._dead_letter(js, subjects, msg, sequence, error)
        screened = [item for index, item in enumerate(fresh) if index not in refused]
        if not screened:
            return
        held = self.screen.last_new_candidates
        newest = self.screen.newest
        keep_from = None if newest is None else newest - self.screen.horizon
        last_msg, last, _ = screened[-1]
        alerts = changed.drop("is_new")
        self.store.commit(
            last,
            held if held is not None else pl.DataFrame(),
            alerts,
            keep_from,
            with_sequences=tuple(seq for _, seq, _ in screened[:-1]),
        )
        for msg, _, _ in screened[:-1]:  # their outcome is filed under the last one; an
            await msg.ack()  # ack lost on the way only brings the message again, as a replay
        if alerts.height:
            await self._publish_alerts(js, subjects, last, alerts)
            if not await self._deliver(last, alerts, last_msg):
                return
        await last_msg.ack_sync()
        self.report.messages += len(screened)
        self.report.groups += 1
        self.report.alerts_changed += changed.height

    async def _replay(
        self, js: JetStreamContext, subjects: Subjects, msg: Msg, sequence: int
    ) -> None:
        self.report.replayed += 1
        ids = self.store.changed_ids(sequence)
        if ids:  # the first publication may have been lost with the worker
            alerts = self.store.alerts(ids)
            await self._publish_alerts(js, subjects, sequence, alerts)
            if not await self._deliver(sequence, alerts, msg):
                return
        await msg.ack_sync()

    async def _dead_letter(
        self, js: JetStreamContext, subjects: Subjects, msg: Msg, sequence: int, exc: Exception
    ) -> None:
        await js.publish(
            subjects.dead_letter,
            msg.data,
            headers={
                "Nats-Msg-Id": f"dead:{sequence}",
                "Safehold-Reason": str(exc)[:900],
                "Safehold-Source-Sequence": str(sequence),
                "Safehold-Source-Subject": msg.subject,
            },
        )
        self.store.dead_letter(sequence, str(exc)[:900])
        self.report.dead_letters += 1
        await msg.ack_sync()

    async def _deliver(self, sequence: int, alerts: pl.DataFrame, msg: Msg) -> bool:
        """To the hub, then the webhook (each if configured). On a failure the message is
        not acknowledged: it comes again in 5s (its alerts are stored) and is sent again."""
        if self.hub is not None and self._http is not None:
            url, key = self.hub
            explained = with_model_context(alerts, self.flags.current, self.screen.rules)
            try:
                self.report.hub_new += await deliver_to_hub(self._http, url, key, explained)
            except HubDeliveryError as exc:
                self.report.hub_failures += 1
                self._say(f"{exc}; message {sequence} will come again in 5s")
                await msg.nak(delay=5.0)
                return False
            self.report.hub_deliveries += 1
        return await self._to_webhook(sequence, alerts, msg)

    async def _to_webhook(self, sequence: int, alerts: pl.DataFrame, msg: Msg) -> bool:
        """Deliver to the webhook, if there is one. On failure the message is not
        acknowledged: it comes again (its alerts are already stored) and is delivered then."""
        if self.webhook is None or self._http is None:
            return True
        url, secret = self.webhook
        try:
            await deliver(self._http, url, secret, alerts, delivery_id=f"alerts:{sequence}")
        except WebhookDeliveryError as exc:
            self.report.webhook_failures += 1
            self._say(f"{exc}; message {sequence} will come again in 5s")
            await msg.nak(delay=5.0)
            return False
        self.report.webhook_deliveries += 1
        return True

    async def _publish_alerts(
        self, js: JetStreamContext, subjects: Subjects, sequence: int, alerts: pl.DataFrame
    ) -> None:
        """Alerts new or changed by one message, to the alerts subject; the message id
        lets JetStream drop a second copy published after a restart."""
        await js.publish(
            subjects.alerts, encode_batch(alerts), headers={"Nats-Msg-Id": f"alerts:{sequence}"}
        )

    async def run(
        self,
        url: str,
        *,
        subjects: Subjects,
        stream: str,
        durable: str,
        attempts: int,
        idle_exit: float | None,
        say: Say,
        ack_wait: float = 10.0,
    ) -> WorkerReport:
        """Screen until stopped (or idle for ``idle_exit`` seconds). Messages are handled
        in stream order, up to ``max_batch`` at a time, each stored before it is
        acknowledged. After a restart, the messages left unacknowledged by the killed
        worker come again (after ``ack_wait`` seconds) before any later one is screened: a
        later message fetched meanwhile is handed back (nak) to come again after them."""
        client = await connect(url, attempts=attempts, say=say)
        wants_http = self.webhook is not None or self.hub is not None
        self._http = httpx.AsyncClient(timeout=10.0) if wants_http else None
        try:
            js = client.jetstream()
            await ensure_stream(js, stream, subjects.prefix)
            sub = await js.pull_subscribe(
                subjects.events_filter,
                durable=durable,
                stream=stream,
                config=api.ConsumerConfig(ack_wait=ack_wait, max_ack_pending=self.max_batch),
            )
            info = await sub.consumer_info()
            owed = info.num_ack_pending or 0
            delivered = (info.delivered.stream_seq if info.delivered else None) or 0
            if owed:
                say(f"{owed} message(s) left unacknowledged before a restart come first")
            guard_until = time.monotonic() + 2 * ack_wait + 5.0
            idle = 0.0
            while not self.stopping:
                try:
                    messages = await sub.fetch(self.max_batch, timeout=1.0)
                except TimeoutError:  # nats' own, or asyncio's from a fetch of many
                    idle += 1.0
                    if idle_exit is not None and idle >= idle_exit and not owed:
                        break
                    continue
                idle = 0.0
                if owed and time.monotonic() < guard_until:
                    early = [m for m in messages if m.metadata.sequence.stream > delivered]
                    messages = [m for m in messages if m.metadata.sequence.stream <= delivered]
                    for msg in early:
                        await msg.nak(delay=0.2)
                    owed = max(0, owed - len(messages))
                else:
                    owed = 0
                if messages:
                    await self.handle_group(js, subjects, messages)
        finally:
            await client.close()
            if self._http is not None:
                await self._http.aclose()
            self.store.close()
        return self.report
