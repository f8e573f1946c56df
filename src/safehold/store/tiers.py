"""Which tier each exchange record type is stored in: one table, read by the hub's policy."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """Purpose-limited partitions of the store (shared/ARCHITECTURE.md, "Data tiers")."""

    REGISTRY = "registry"
    SIGNALS = "signals"
    ENCLAVE = "enclave"
    ALERTS = "alerts"
    CASES = "cases"


RECORD_TIER: dict[str, Tier] = {
    "registry_entry": Tier.REGISTRY,
    "signal": Tier.SIGNALS,
    "behaviour": Tier.ENCLAVE,
    "account_keys": Tier.ENCLAVE,
    "cohort_label": Tier.ENCLAVE,
    "contact_event": Tier.ENCLAVE,
    "conversation": Tier.ENCLAVE,
}
"""Record type (the exchange ``record_type`` tag) -> the tier it is stored in."""
