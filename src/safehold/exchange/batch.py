"""Batches: the unit in which a member contributes records, validated whole."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError, field_validator

from safehold.exchange.account_keys import AccountKeys
from safehold.exchange.base import SUPPORTED_VERSIONS, Identifier, StrictModel
from safehold.exchange.behaviour import BehaviourRecord
from safehold.exchange.cohorts import CohortLabel
from safehold.exchange.contacts import ContactEvent
from safehold.exchange.conversations import Conversation
from safehold.exchange.registry import RegistryEntry
from safehold.exchange.signals import Signal

Record = Annotated[
    RegistryEntry
    | BehaviourRecord
    | AccountKeys
    | CohortLabel
    | ContactEvent
    | Conversation
    | Signal,
    Field(discriminator="record_type"),
]
RECORD_TYPES: tuple[type[StrictModel], ...] = (
    RegistryEntry,
    BehaviourRecord,
    AccountKeys,
    CohortLabel,
    ContactEvent,
    Conversation,
    Signal,
)
MAX_BATCH_RECORDS = 100_000


class Batch(StrictModel):
    batch_id: Identifier = Field(
        description="Chosen by the member; resending the same id is idempotent."
    )
    member_id: Identifier
    schema_version: str = Field(description="Exchange format version the records follow.")
    created_at: AwareDatetime
    records: list[Record] = Field(min_length=1, max_length=MAX_BATCH_RECORDS)

    @field_validator("schema_version")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_VERSIONS:
            supported = ", ".join(sorted(SUPPORTED_VERSIONS))
            raise ValueError(f"unsupported schema_version; this hub reads {supported}")
        return value


@dataclass(frozen=True)
class RecordError:
    """One reason a batch was rejected. ``index`` is None for errors outside the records."""

    index: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"record {self.index}" if self.index is not None else "batch"
        return f"{where}, field '{self.field}': {self.reason}"


class BatchValidationError(ValueError):
    """A batch that cannot be accepted; lists every problem, never the offending values."""

    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"batch rejected, {len(errors)} problem(s): {shown}{more}")


_RECORD_TAGS = frozenset(str(t.model_fields["record_type"].default) for t in RECORD_TYPES)
_BATCH_ADAPTER = TypeAdapter(Batch)


def _record_error(error: Any) -> RecordError:
    loc = list(error["loc"])
    index: int | None = None
    if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
        index = loc[1]
        loc = loc[2:]
        if loc and loc[0] in _RECORD_TAGS:
            loc = loc[1:]
    field = ".".join(str(part) for part in loc) or "(record)"
    # error["msg"] never contains the input value; error["input"] is deliberately not used.
    return RecordError(index=index, field=field, reason=str(error["msg"]))


def validate_batch(data: bytes | str | dict[str, Any]) -> Batch:
    """Validate a whole batch; raise BatchValidationError naming each record index and field."""
    try:
        if isinstance(data, dict):
            return _BATCH_ADAPTER.validate_python(data)
        return _BATCH_ADAPTER.validate_json(data)
    except ValidationError as exc:
        raise BatchValidationError([_record_error(e) for e in exc.errors()]) from None
    except json.JSONDecodeError as exc:  # pragma: no cover - validate_json reports these itself
        raise BatchValidationError([RecordError(None, "(json)", exc.msg)]) from None
