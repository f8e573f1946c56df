"""JSON Schema for every exchange type, so members can validate before they send."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from safehold.exchange.account_keys import AccountKeys
from safehold.exchange.base import SCHEMA_VERSION
from safehold.exchange.batch import Batch
from safehold.exchange.behaviour import BehaviourRecord
from safehold.exchange.cohorts import CohortLabel
from safehold.exchange.contacts import ContactEvent
from safehold.exchange.conversations import Conversation, Message, Participant
from safehold.exchange.members import Member
from safehold.exchange.registry import RegistryEntry
from safehold.exchange.signals import Signal
from safehold.exchange.subjects import SubjectRef

EXPORTED_TYPES: tuple[type[BaseModel], ...] = (
    Member,
    SubjectRef,
    RegistryEntry,
    BehaviourRecord,
    AccountKeys,
    CohortLabel,
    ContactEvent,
    Conversation,
    Participant,
    Message,
    Signal,
    Batch,
)


def json_schema(model: type[BaseModel]) -> dict[str, object]:
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:safehold:exchange:{SCHEMA_VERSION}:{model.__name__}",
        "x-schema-version": SCHEMA_VERSION,
        **schema,
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write one ``<Type>.schema.json`` per exchange type; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for model in EXPORTED_TYPES:
        path = directory / f"{model.__name__}.schema.json"
        path.write_text(json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
