"""Output checks for everything that leaves the research enclave: k-anonymity and l-diversity
of released tables over their quasi-identifiers (with generalisation, suppression and a record
of what was suppressed), and differentially private counts through OpenDP with every epsilon
spent written to a budget ledger and each count's accuracy stated.

May import ``safehold.exchange`` only.
"""

from safehold.privacy.anonymity import (
    AnonymityError,
    AnonymityReport,
    SuppressedClass,
    enforce_anonymity,
    small_classes,
)
from safehold.privacy.budget import BudgetExceededError, BudgetLedger, LedgerEntry
from safehold.privacy.dp_counts import DpCount, release_count, release_counts

__all__ = [
    "AnonymityError",
    "AnonymityReport",
    "BudgetExceededError",
    "BudgetLedger",
    "DpCount",
    "LedgerEntry",
    "SuppressedClass",
    "enforce_anonymity",
    "release_count",
    "release_counts",
    "small_classes",
]
