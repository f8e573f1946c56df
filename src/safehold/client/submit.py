"""Submitting batches to the hub: gzip, one batch per request, resumable, no duplicates.

Why it cannot duplicate: batch ids are deterministic and the hub is idempotent by batch id,
so a batch that was stored but whose answer was lost is simply sent again and answered as a
replay. The journal only saves work: every batch it lists was acknowledged by the hub.
Network failures, timeouts and 502/503/504 are retried with bounded backoff; if the hub
stays away the run stops cleanly and the same command resumes it. A refusal (409 conflict,
422 invalid, 403 not allowed, 413 too large) stops at once with the hub's reasons."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from safehold.client.batch_files import batch_bytes
from safehold.client.hub_api import HubApi, HubError, HubUnreachableError
from safehold.client.journal import Journal
from safehold.exchange import Batch, BatchValidationError, validate_batch

NDJSON = "application/x-ndjson"

PendingBatch = Batch | Mapping[str, Any]
"""A validated batch, or a batch as read from a file (validated only if it must be sent)."""


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    records: int
    status: Literal["stored", "replayed", "skipped"]


@dataclass
class SubmitReport:
    """What a run did. ``acknowledged`` counts every batch the hub is known to hold."""

    stored: int = 0
    replayed: int = 0
    skipped: int = 0
    records: int = 0
    outcomes: list[BatchOutcome] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return self.stored + self.replayed + self.skipped

    def add(self, outcome: BatchOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.status == "stored":
            self.stored += 1
        elif outcome.status == "replayed":
            self.replayed += 1
        else:
            self.skipped += 1
        self.records += outcome.records


class SubmitStoppedError(Exception):
    """The hub refused a batch (or a batch could not be sent as it is): fix, then rerun."""

    def __init__(
        self, report: SubmitReport, batch_id: str | None, reason: str, error: HubError | None = None
    ) -> None:
        super().__init__(reason)
        self.report = report
        self.batch_id = batch_id
        self.reason = reason
        self.error = error


class SubmitInterruptedError(Exception):
    """The hub stayed unreachable after every retry; rerunning resumes without duplicates."""

    def __init__(self, report: SubmitReport, batch_id: str, cause: HubUnreachableError) -> None:
        super().__init__(str(cause))
        self.report = report
        self.batch_id = batch_id
        self.cause = cause


def encode_batch(batch: Batch) -> bytes:
    """The request body: the batch's NDJSON, gzip-compressed (deterministic bytes)."""
    return gzip.compress(batch_bytes(batch), compresslevel=6, mtime=0)


def submit_batches(
    api: HubApi,
    batches: Iterable[PendingBatch],
    journal: Journal,
    *,
    member_id: str | None = None,
    source: str = "batches",
    on_batch: Callable[[BatchOutcome], None] | None = None,
) -> SubmitReport:
    """Send every batch the journal does not list, in order. ``member_id`` (the API key's
    member, from ``/v1/me``) is checked against each batch before it is sent."""
    report = SubmitReport()
    for number, pending in enumerate(batches, start=1):
        batch_id, records = _peek(pending)
        if batch_id in journal:
            outcome = BatchOutcome(batch_id, records, "skipped")
        else:
            batch = _validated(pending, number, source, report)
            if member_id is not None and batch.member_id != member_id:
                raise SubmitStoppedError(
                    report,
                    batch.batch_id,
                    f"{source}: batch {batch.batch_id} is for member {batch.member_id}, but the "
                    f"API key belongs to member {member_id}; use {batch.member_id}'s own key",
                )
            outcome = _send(api, batch, journal, report)
        report.add(outcome)
        if on_batch is not None:
            on_batch(outcome)
    return report


def _peek(pending: PendingBatch) -> tuple[str, int]:
    if isinstance(pending, Batch):
        return pending.batch_id, len(pending.records)
    records = pending.get("records")
    return str(pending.get("batch_id")), len(records) if isinstance(records, list) else 0


def _validated(pending: PendingBatch, number: int, source: str, report: SubmitReport) -> Batch:
    if isinstance(pending, Batch):
        return pending
    try:
        return validate_batch(dict(pending))
    except BatchValidationError as exc:
        shown = "; ".join(str(e) for e in exc.errors[:5])
        raise SubmitStoppedError(
            report, None, f"{source}: batch {number} is not valid ({shown}); prepare it again"
        ) from None


def _send(api: HubApi, batch: Batch, journal: Journal, report: SubmitReport) -> BatchOutcome:
    try:
        answer = api.request(
            "POST",
            "/v1/batches",
            content=encode_batch(batch),
            headers={"Content-Type": NDJSON, "Content-Encoding": "gzip"},
        )
    except HubUnreachableError as exc:
        raise SubmitInterruptedError(report, batch.batch_id, exc) from None
    except HubError as exc:
        raise SubmitStoppedError(report, batch.batch_id, _refusal(exc), exc) from None
    if answer.get("batch_id") != batch.batch_id:
        raise SubmitStoppedError(
            report,
            batch.batch_id,
            f"the hub acknowledged another batch id than batch {batch.batch_id}; not recorded",
        )
    journal.record(batch.batch_id, answer)
    accepted = answer.get("accepted")
    records = accepted if isinstance(accepted, int) else len(batch.records)
    status: Literal["stored", "replayed"] = "replayed" if answer.get("replayed") else "stored"
    return BatchOutcome(batch.batch_id, records, status)


_ADVICE = {
    401: "check the API key (it may be revoked or mistyped)",
    403: "this member may not send these records; check the member's kind and the records",
    409: "a different batch with this id is already stored; prepare again without changing "
    "the batch ids of data already sent, or ask the operator",
    413: "the batch is too large for this hub; prepare again with a smaller --batch-size",
    422: "fix the records named below, prepare again and rerun",
}


def _refusal(error: HubError) -> str:
    advice = _ADVICE.get(error.status, "see the hub's message")
    return f"the hub refused it ({error.status} {error.code}): {error.message}; {advice}"


def describe_details(
    details: list[dict[str, Any]], limit: int = 20, unit: str = "record", whole: str = "batch"
) -> list[str]:
    """The hub's per-item reasons as lines: index (of a record in the batch, or ``unit``),
    field, reason."""
    lines = []
    for detail in details[:limit]:
        index = detail.get("index")
        where = f"{unit} {index}" if index is not None else whole
        lines.append(f"{where}, field '{detail.get('field', '?')}': {detail.get('reason', '?')}")
    if len(details) > limit:
        lines.append(f"... and {len(details) - limit} more")
    return lines
