"""The standardised, versioned exchange format: every record that travels between members and
the hub, as strict pydantic models, with their JSON Schema and data dictionary.

This package owns the contract itself and imports nothing of ours; every other package may
import it.
"""

from safehold.exchange.account_keys import AccountKeys
from safehold.exchange.base import SCHEMA_VERSION, SUPPORTED_VERSIONS, AgeBand, Sex, StrictModel
from safehold.exchange.batch import (
    RECORD_TYPES,
    Batch,
    BatchValidationError,
    Record,
    RecordError,
    validate_batch,
)
from safehold.exchange.behaviour import (
    FEATURE_NAMES,
    BehaviourRecord,
    FeatureGroup,
    FeatureInfo,
    Unit,
    behaviour_features,
)
from safehold.exchange.cohorts import Cohort, CohortLabel, SourceKind
from safehold.exchange.contacts import Channel, ContactEvent
from safehold.exchange.conversations import Conversation, Message, Participant
from safehold.exchange.members import Member, MemberKind, SizeBand
from safehold.exchange.referrals import ChildRef, EvidencePointer, Referral
from safehold.exchange.registry import OffenceTypology, RegistryEntry, RegistryStatus
from safehold.exchange.signals import Signal, SignalCategory, SignalKind
from safehold.exchange.subjects import IdentifierKind, SubjectRef

__all__ = [
    "FEATURE_NAMES",
    "RECORD_TYPES",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "AccountKeys",
    "AgeBand",
    "Batch",
    "BatchValidationError",
    "BehaviourRecord",
    "Channel",
    "ChildRef",
    "Cohort",
    "CohortLabel",
    "ContactEvent",
    "Conversation",
    "EvidencePointer",
    "FeatureGroup",
    "FeatureInfo",
    "IdentifierKind",
    "Member",
    "MemberKind",
    "Message",
    "OffenceTypology",
    "Participant",
    "Record",
    "RecordError",
    "Referral",
    "RegistryEntry",
    "RegistryStatus",
    "Sex",
    "Signal",
    "SignalCategory",
    "SignalKind",
    "SizeBand",
    "SourceKind",
    "StrictModel",
    "SubjectRef",
    "Unit",
    "behaviour_features",
    "validate_batch",
]
