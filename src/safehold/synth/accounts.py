"""Platform accounts: each person holds accounts on one to three platforms, as themselves or
nearly so, which is what makes linkage across members necessary and possible."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.exchange import Member
from safehold.synth.population import AGE_BANDS, Population, age_band_codes
from safehold.synth.roster import PLATFORM_WEIGHTS


def _platform_sets(
    rng: np.random.Generator, n: int, weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Distinct platforms per person by Gumbel top-k: (person index, platform index) pairs."""
    counts = rng.choice(3, size=n, p=[0.55, 0.3, 0.15]) + 1
    keys = np.log(weights)[None, :] + rng.gumbel(size=(n, len(weights)))
    order = np.argsort(-keys, axis=1).astype(np.int8)
    take = np.arange(len(weights))[None, :] < counts[:, None]
    person = np.broadcast_to(np.arange(n)[:, None], order.shape)[take]
    return person.astype(np.int64), order[take]


def generate_accounts(
    population: Population, platforms: tuple[Member, ...], rng: np.random.Generator
) -> pl.DataFrame:
    """One row per account: the member-side identifiers plus the person it belongs to (truth)."""
    people = population.people
    n = people.height
    weights = np.array(
        [PLATFORM_WEIGHTS[p.size_band] for p in platforms if p.size_band is not None]
    )
    person, platform = _platform_sets(rng, n, weights)
    m = person.size
    member_ids = np.array([p.member_id for p in platforms])

    age = people["age"].to_numpy()[person]
    true_band = age_band_codes(age)
    # Children under 13 often claim to be older to get past sign-up age checks.
    lies = (true_band == 0) & (rng.random(m) < 0.6)
    declared = np.where(lies, rng.choice([1, 1, 1, 3], size=m), true_band).astype(np.int8)
    signup_email = rng.random(m)
    uses_phone = rng.random(m) < 0.45
    suffix = rng.integers(1, 10_000, size=m)
    gives_name = rng.random(m) < 0.7
    gives_dob = rng.random(m) < 0.8
    # A child who lied about their age gave a date of birth to match.
    dob_shift_years = np.where(lies, np.where(declared == 3, 8, 3), 0)

    frame = pl.DataFrame(
        {
            "person_id": person,
            "platform": platform,
            "member_id": member_ids[platform],
            "declared_band": np.array(AGE_BANDS)[declared],
            "signup_email": signup_email,
            "uses_phone": uses_phone,
            "suffix": suffix,
            "gives_name": gives_name,
            "gives_dob": gives_dob,
            "dob_shift_days": (dob_shift_years * 365).astype(np.int32),
        }
    ).sort(["platform", "person_id"])
    frame = frame.with_columns(
        account_id=pl.concat_str(
            pl.col("member_id"),
            pl.lit(":a"),
            pl.int_range(pl.len()).over("member_id").cast(pl.Utf8).str.zfill(7),
        )
    )
    ident = people.select("person_id", "given_name", "family_name", "dob", "email", "phone")
    frame = frame.join(ident, on="person_id", how="left", maintain_order="left")
    letters = pl.col("given_name").str.replace_all(r"[^a-z]", "")
    frame = frame.with_columns(
        username=pl.concat_str(
            letters,
            pl.col("family_name").str.replace_all(r"[^a-z]", "").str.slice(0, 3),
            pl.col("suffix").cast(pl.Utf8),
        ),
        email=pl.when(pl.col("signup_email") < 0.75)
        .then(pl.col("email"))
        .when(pl.col("signup_email") < 0.9)
        .then(pl.concat_str(letters, pl.col("suffix").cast(pl.Utf8), pl.lit("@example.net")))
        .otherwise(None),
        phone=pl.when(pl.col("uses_phone")).then(pl.col("phone")).otherwise(None),
        given_name=pl.when(pl.col("gives_name")).then(pl.col("given_name")).otherwise(None),
        family_name=pl.when(pl.col("gives_name")).then(pl.col("family_name")).otherwise(None),
        dob=pl.when(pl.col("gives_dob"))
        .then(pl.col("dob") - pl.duration(days=pl.col("dob_shift_days")))
        .otherwise(None),
    )
    return frame.select(
        "account_id",
        "person_id",
        "member_id",
        "username",
        "email",
        "phone",
        "given_name",
        "family_name",
        "dob",
        pl.col("declared_band").alias("age_band"),
    )
