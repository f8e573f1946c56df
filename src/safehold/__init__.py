"""Safehold: organisations that each see part of online child sexual exploitation work together.

Raw identities stay with the organisation that holds them; what travels is standardised,
pseudonymised and purpose-bound, and every decision about a person is made by a person.
The top-level package only exposes the version; each sub-package owns one concern (see
shared/ARCHITECTURE.md).
"""

__version__ = "0.1.0"
