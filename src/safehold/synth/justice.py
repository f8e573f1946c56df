"""Justice records: what police, courts and probation each hold about known offenders.

Each agency holds its own copy of a person's identity, with its own slips, nicknames, old
email addresses and phone numbers, and none of them holds the person id. That is what the
linkage study has to overcome; the truth frame says who every record really is and which
variations were applied. A few records belong to people who are on no platform at all, so
the study also meets records that must stay unmatched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.synth.names import EMAIL_DOMAINS, FAMILY, FEMALE_GIVEN, MALE_GIVEN
from safehold.synth.typos import (
    vary_dobs,
    vary_emails,
    vary_family_names,
    vary_given_names,
    vary_phones,
)

KINDS: tuple[str, ...] = ("police", "court", "probation")
TYPOLOGIES: tuple[str, ...] = ("contact", "csem_only", "grooming", "other")
TYPOLOGY_SHARES: tuple[float, ...] = (0.3, 0.45, 0.15, 0.1)
STATUSES: tuple[str, ...] = ("active", "expired", "withdrawn")
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id", "given_name", "family_name", "dob", "email", "phone",
    "typology", "convicted_month", "registered_from", "registered_until", "status",
)  # fmt: skip
CHANGE_COLUMNS: tuple[str, ...] = (
    "given_name_change", "family_name_change", "dob_change", "email_change", "phone_change",
)  # fmt: skip
TRUTH_COLUMNS: tuple[str, ...] = (
    "member_id",
    "record_id",
    "person_id",
    "justice_only",
    *CHANGE_COLUMNS,
)

# Notification periods in months (0: indefinite) and how often each is given.
_PERIODS = np.array([0, 120, 84, 60, 24])
_PERIOD_SHARES = np.array([0.35, 0.25, 0.15, 0.15, 0.1])
# Per kind: (share holding an email, share holding a phone, share of phones written nationally).
_HOLDS: dict[str, tuple[float, float, float]] = {
    "police": (0.55, 0.75, 0.6),
    "court": (0.25, 0.45, 0.5),
    "probation": (0.7, 0.85, 0.7),
}


@dataclass(frozen=True)
class RecordErrors:
    """How often an agency's copy of an identity differs from the person's own."""

    name_rate: float = 0.15  # records with at least one name variation
    dob_rate: float = 0.05
    email_outdated: float = 0.25  # of emails held
    email_variant: float = 0.1
    phone_outdated: float = 0.2  # of phones held
    court_share: float = 0.9
    supervision_share: float = 0.6  # offenders on probation supervision (probation record)
    justice_only_share: float = 0.02  # of people with records, those on no platform


@dataclass(frozen=True)
class JusticeRecords:
    records: dict[str, pl.DataFrame]  # member_id -> RECORD_COLUMNS, no person id
    truth: pl.DataFrame  # TRUTH_COLUMNS


def _month_text(index: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        (index // 12).cast(pl.Utf8), pl.lit("-"), (index % 12 + 1).cast(pl.Utf8).str.zfill(2)
    )


def _justice_only_people(
    people: pl.DataFrame, n: int, rng: np.random.Generator, period_end: date
) -> pl.DataFrame:
    """People known to justice agencies who hold no platform account: new synthetic persons
    with ids after the population's, identities built the way the population's are."""
    top = people["person_id"].max()
    first = int(top) + 1 if isinstance(top, int) else 0
    ids = np.arange(first, first + n, dtype=np.int64)
    male = rng.random(n) < 0.9
    given = np.where(
        male,
        np.array(MALE_GIVEN)[rng.integers(0, len(MALE_GIVEN), n)],
        np.array(FEMALE_GIVEN)[rng.integers(0, len(FEMALE_GIVEN), n)],
    )
    age = rng.integers(22, 70, size=n).astype(np.int16)
    dob = np.datetime64(period_end.isoformat(), "D") - (
        age * 365.25 + rng.integers(0, 365, n)
    ).astype("timedelta64[D]")
    frame = pl.DataFrame(
        {
            "person_id": ids,
            "given_name": given,
            "family_name": np.array(FAMILY)[rng.integers(0, len(FAMILY), n)],
            "dob": dob,
            "domain": np.array(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), n)],
            "age": age,
        },
        schema_overrides={
            "dob": pl.Date,
            "given_name": pl.Utf8,
            "family_name": pl.Utf8,
            "domain": pl.Utf8,
        },
    )
    letters = pl.col("family_name").str.replace_all(r"[^a-z]", "")
    return frame.with_columns(
        email=pl.concat_str(
            pl.col("given_name").str.replace_all(r"[^a-z]", ""),
            pl.lit("."),
            letters,
            pl.col("person_id").cast(pl.Utf8),
            pl.lit("@"),
            pl.col("domain"),
        ),
        # The population's bijection on nine digits, so the number is no one else's.
        phone=pl.concat_str(
            pl.lit("+447"),
            ((pl.col("person_id") * 7_919_113 + 104_729) % 1_000_000_000)
            .cast(pl.Utf8)
            .str.zfill(9),
        ),
        justice_only=pl.lit(True),
    ).drop("domain")


def _cases(persons: pl.DataFrame, rng: np.random.Generator, period_end: date) -> pl.DataFrame:
    """One conviction per person, shared by every agency's record of it."""
    n = persons.height
    last_day = period_end - timedelta(days=1)
    last = last_day.year * 12 + last_day.month - 1  # last month inside the period
    ref = period_end.year * 12 + period_end.month - 1  # status is as at period_end
    adult_months = np.clip((persons["age"].to_numpy().astype(np.int64) - 18) * 12, 0, 179)
    convicted = last - np.floor(rng.random(n) * (adult_months + 1)).astype(np.int64)
    delay = np.select(
        [rng.random(n) < 0.7, rng.random(n) < 2 / 3],
        [0, rng.integers(1, 3, n)],
        rng.integers(6, 49, n),
    )
    registered_from = np.minimum(convicted + delay, last)
    period = _PERIODS[rng.choice(_PERIODS.size, size=n, p=_PERIOD_SHARES)]
    until = np.where(period > 0, registered_from + period, -1)
    withdrawn = (rng.random(n) < 0.03) & (registered_from < ref)
    until = np.where(
        withdrawn,
        registered_from + np.floor(rng.random(n) * (ref - registered_from)).astype(np.int64),
        until,
    )
    status = np.where(withdrawn, 2, np.where((until < 0) | (until >= ref), 0, 1))
    return pl.DataFrame(
        {
            "typology": np.array(TYPOLOGIES)[
                rng.choice(len(TYPOLOGIES), size=n, p=TYPOLOGY_SHARES)
            ],
            "convicted": convicted,
            "from": registered_from,
            "until": until,
            "status": np.array(STATUSES)[status],
        },
        schema_overrides={"typology": pl.Utf8, "status": pl.Utf8},
    ).select(
        "typology",
        _month_text(pl.col("convicted")).alias("convicted_month"),
        _month_text(pl.col("from")).alias("registered_from"),
        pl.when(pl.col("until") >= 0).then(_month_text(pl.col("until"))).alias("registered_until"),
        "status",
    )


def _assign(
    rng: np.random.Generator, n: int, share: float, member_ids: list[str]
) -> npt.NDArray[np.int64]:
    """Which member of a kind holds each person's record (-1: none)."""
    held = rng.random(n) < share
    pick = rng.integers(0, max(len(member_ids), 1), size=n)
    return np.where(held & (len(member_ids) > 0), pick, -1)


def _case_style(kind: pl.Expr, column: str, upper_for_police: bool) -> pl.Expr:
    """House style: police write family names in capitals, courts in title case."""
    col = pl.col(column)
    police = col.str.to_uppercase() if upper_for_police else col.str.to_titlecase()
    return (
        pl.when(kind == "police")
        .then(police)
        .when(kind == "court")
        .then(col.str.to_titlecase())
        .otherwise(col)
    )


def generate_justice_records(
    people: pl.DataFrame,
    *,
    rng: np.random.Generator,
    members: Mapping[str, str],
    period_end: date,
    errors: RecordErrors | None = None,
) -> JusticeRecords:
    """Records for every known offender: always one police record, a court record with
    probability ``court_share`` and a probation record when on supervision. ``members``
    maps member_id to kind ("police", "probation" or "court"); with several members of a
    kind, each person's record is held by one of them at random."""
    errors = errors or RecordErrors()
    unknown = sorted(set(members.values()) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown justice member kinds {unknown}; use police, probation or court")
    by_kind = {kind: sorted(m for m, k in members.items() if k == kind) for kind in KINDS}

    known = people.filter(pl.col("known_offender")).select(
        "person_id",
        "given_name",
        "family_name",
        "dob",
        "email",
        "phone",
        "age",
        pl.lit(False).alias("justice_only"),
    )
    share = errors.justice_only_share
    n_extra = round(known.height * share / (1 - share)) if known.height and share > 0 else 0
    extra = _justice_only_people(people, n_extra, rng, period_end).select(known.columns)
    persons = pl.concat([known, extra.cast(known.schema)], how="vertical")
    n = persons.height
    persons = pl.concat([persons, _cases(persons, rng, period_end)], how="horizontal")

    holders = [
        _assign(rng, n, 1.0, by_kind["police"]),
        _assign(rng, n, errors.court_share, by_kind["court"]),
        _assign(rng, n, errors.supervision_share, by_kind["probation"]),
    ]
    person_row = np.concatenate([np.flatnonzero(h >= 0) for h in holders])
    kind = np.concatenate(
        [np.full(int((h >= 0).sum()), k) for h, k in zip(holders, KINDS, strict=True)]
    )
    member = np.concatenate(
        [
            np.array(by_kind[k] or [""], dtype=object)[h[h >= 0]]
            for h, k in zip(holders, KINDS, strict=True)
        ]
    )
    rows = persons.select(pl.all().gather(pl.Series(person_row, dtype=pl.Int64))).with_columns(
        pl.Series("kind", kind, dtype=pl.Utf8),
        pl.Series("member_id", member.tolist(), dtype=pl.Utf8),
    )
    rows = _vary(rows, rng, errors, period_end)

    # Each agency numbers its own records in an order that says nothing about the person.
    rows = rows.with_columns(order=pl.Series(rng.random(rows.height)))
    rows = rows.sort("member_id", "order").with_columns(
        record_id=pl.concat_str(
            pl.col("member_id"),
            pl.lit(":J"),
            (pl.int_range(pl.len()).over("member_id") + 1).cast(pl.Utf8).str.zfill(6),
        )
    )
    records = {
        mid: rows.filter(pl.col("member_id") == mid).select(RECORD_COLUMNS)
        for mid in sorted(members)
    }
    truth = rows.select(TRUTH_COLUMNS).sort("member_id", "record_id")
    return JusticeRecords(records=records, truth=truth)


def _vary(
    rows: pl.DataFrame, rng: np.random.Generator, errors: RecordErrors, period_end: date
) -> pl.DataFrame:
    """Each record's identity as its agency holds it, varied independently per record."""
    n = rows.height
    kind = rows["kind"].to_numpy()
    # Which part of the name varies: given only, family only, or both.
    named = rng.random(n) < errors.name_rate
    part = rng.choice(3, size=n, p=[0.45, 0.4, 0.15])
    given = vary_given_names(
        rng, rows["given_name"].to_numpy(), rate=(named & (part != 1)).astype(np.float64)
    )
    family = vary_family_names(
        rng, rows["family_name"].to_numpy(), rate=(named & (part != 0)).astype(np.float64)
    )
    dob = vary_dobs(rng, rows["dob"].to_numpy(), rate=errors.dob_rate, latest=period_end)
    holds = np.array([_HOLDS[k] for k in kind]).reshape(n, 3)
    email = vary_emails(
        rng,
        rows["email"].to_numpy(),
        missing=1 - holds[:, 0],
        outdated=errors.email_outdated,
        variant=errors.email_variant,
    )
    phone = vary_phones(
        rng,
        rows["phone"].to_numpy(),
        missing=1 - holds[:, 1],
        outdated=errors.phone_outdated,
        reformat=holds[:, 2],
    )
    varied = rows.with_columns(
        pl.Series("given_name", given.values.tolist(), dtype=pl.Utf8),
        pl.Series("family_name", family.values.tolist(), dtype=pl.Utf8),
        pl.Series("dob", dob.values).cast(pl.Date),
        pl.Series("email", email.values.tolist(), dtype=pl.Utf8),
        pl.Series("phone", phone.values.tolist(), dtype=pl.Utf8),
        pl.Series("given_name_change", given.change, dtype=pl.Utf8),
        pl.Series("family_name_change", family.change, dtype=pl.Utf8),
        pl.Series("dob_change", dob.change, dtype=pl.Utf8),
        pl.Series("email_change", email.change, dtype=pl.Utf8),
        pl.Series("phone_change", phone.change, dtype=pl.Utf8),
    )
    return varied.with_columns(
        _case_style(pl.col("kind"), "given_name", upper_for_police=False),
        _case_style(pl.col("kind"), "family_name", upper_for_police=True),
    )
