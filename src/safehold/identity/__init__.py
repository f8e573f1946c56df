"""Identity: everything that turns a person's identifiers into something safe to share.

This package owns normalising identifiers (email, phone, username, account id, person name,
date of birth), keyed HMAC-SHA256 pseudonyms under a versioned coalition key, CLK Bloom-filter
encodings of names and dates of birth for fuzzy linkage (byte-compatible with clkhash's
blakeHash scheme), and coalition secret files on disk. Of Safehold's own code it may import
only ``safehold.exchange``; raw identifiers and secrets never appear in its error messages.
"""

from safehold.identity.birth_date import normalise_date_of_birth
from safehold.identity.clk_encoding import ClkEncoder
from safehold.identity.clk_schema import PERSON_CLK_SCHEMA, ClkField, ClkSchema
from safehold.identity.clk_similarity import dice_similarity
from safehold.identity.email_address import normalise_email
from safehold.identity.errors import IdentifierError, SecretError
from safehold.identity.keys import CoalitionKey
from safehold.identity.normalise import normalise_identifier
from safehold.identity.person_name import normalise_person_name
from safehold.identity.phone import normalise_phone
from safehold.identity.pseudonyms import Pseudonymiser
from safehold.identity.secret_file import generate_secret_file, load_coalition_key
from safehold.identity.username import (
    normalise_account_id,
    normalise_platform_id,
    normalise_username,
)

__all__ = [
    "PERSON_CLK_SCHEMA",
    "ClkEncoder",
    "ClkField",
    "ClkSchema",
    "CoalitionKey",
    "IdentifierError",
    "Pseudonymiser",
    "SecretError",
    "dice_similarity",
    "generate_secret_file",
    "load_coalition_key",
    "normalise_account_id",
    "normalise_date_of_birth",
    "normalise_email",
    "normalise_identifier",
    "normalise_person_name",
    "normalise_phone",
    "normalise_platform_id",
    "normalise_username",
]
