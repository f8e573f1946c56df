"""The synthetic population: who exists, their latent traits, and who offends or is vulnerable.

Offending is planted independently of deprivation; being *known* to justice agencies is not
(``selection_bias``), which is the trap a cohort study must not fall into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.exchange import AgeBand
from safehold.synth.behaviour_model import TRAITS
from safehold.synth.config import WorldConfig
from safehold.synth.names import EMAIL_DOMAINS, FAMILY, FEMALE_GIVEN, MALE_GIVEN

AGE_BAND_EDGES: tuple[tuple[int, AgeBand], ...] = (
    (13, AgeBand.UNDER_13),
    (16, AgeBand.AGE_13_15),
    (18, AgeBand.AGE_16_17),
    (25, AgeBand.AGE_18_24),
    (35, AgeBand.AGE_25_34),
    (45, AgeBand.AGE_35_44),
    (55, AgeBand.AGE_45_54),
    (65, AgeBand.AGE_55_64),
    (200, AgeBand.AGE_65_PLUS),
)
AGE_BANDS: tuple[str, ...] = tuple(b.value for _, b in AGE_BAND_EDGES)


@dataclass(frozen=True)
class Population:
    people: pl.DataFrame
    traits: npt.NDArray[np.float32]  # (people, len(TRAITS))


def age_band_codes(age: npt.NDArray[np.int16]) -> npt.NDArray[np.int8]:
    edges = np.array([edge for edge, _ in AGE_BAND_EDGES[:-1]])
    return np.searchsorted(edges, age, side="right").astype(np.int8)


def _zipf_choice(
    rng: np.random.Generator, stock: tuple[str, ...], size: int, exponent: float = 0.9
) -> npt.NDArray[np.int32]:
    weights = 1.0 / np.arange(1, len(stock) + 1) ** exponent
    return rng.choice(len(stock), size=size, p=weights / weights.sum()).astype(np.int32)


def _ages(
    rng: np.random.Generator, n: int, child_share: float
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    is_child = rng.random(n) < child_share
    child_age = rng.integers(9, 18, size=n)
    adult_age = np.minimum(18 + rng.gamma(2.2, 11.0, size=n), 90)
    return np.where(is_child, child_age, adult_age).astype(np.int16), is_child


def generate_population(config: WorldConfig, rng: np.random.Generator) -> Population:
    n = config.people
    age, is_child = _ages(rng, n, config.child_share)
    male = rng.random(n) < 0.5
    quintile = rng.integers(1, 6, size=n).astype(np.int8)
    deprivation_step = (3 - quintile).astype(np.float64) / 2.0  # +1 most deprived, -1 least

    traits = rng.standard_normal((n, len(TRAITS)), dtype=np.float32)
    # Older adults are less active online and less nocturnal; deterministic given age.
    traits[:, 0] -= np.where(is_child, 0.0, 0.015 * (age - 35)).astype(np.float32)
    traits[:, 2] -= np.where(is_child, 0.0, 0.01 * (age - 35)).astype(np.float32)

    # Offending: adults, mostly men, peaking in mid life; independent of deprivation.
    weight = np.where(is_child, 0.0, np.where(male, 1.8, 0.2) * np.exp(-(((age - 38) / 15.0) ** 2)))
    offender_p = np.clip(weight / max(weight[~is_child].mean(), 1e-12) * config.offender_rate, 0, 1)
    is_offender = rng.random(n) < offender_p
    # Being known to justice depends on deprivation when selection_bias > 0.
    known_p = np.clip(
        config.known_share * (1 + config.selection_bias * deprivation_step), 0.02, 0.98
    )
    known = is_offender & (rng.random(n) < known_p)
    # Vulnerable children are more common in deprived areas (a real and stigmatising correlate).
    vulnerable_p = np.clip(config.vulnerable_rate * (1 + 0.5 * deprivation_step), 0, 1)
    vulnerable = is_child & (rng.random(n) < vulnerable_p)

    given_f = _zipf_choice(rng, FEMALE_GIVEN, n)
    given_m = _zipf_choice(rng, MALE_GIVEN, n)
    family = _zipf_choice(rng, FAMILY, n, exponent=0.7)
    reference = config.period_start
    dob_offset = (age.astype(np.int64) * 365.25 + rng.integers(0, 365, size=n)).astype(np.int64)
    dob = np.datetime64(reference.isoformat(), "D") - dob_offset.astype("timedelta64[D]")

    ids = np.arange(n, dtype=np.int64)
    # Unique UK mobile numbers: a prefix from fully allocated mobile ranges (never 76, the
    # pager range) and a bijection of the person id onto the remaining eight digits.
    mobile_prefix = np.array([1, 2, 3, 4, 5, 8])[ids % 6]
    phone_digits = mobile_prefix * 100_000_000 + (ids * 7_919_113 + 104_729) % 100_000_000
    people = pl.DataFrame(
        {
            "person_id": ids,
            "age": age,
            "is_child": is_child,
            "sex": np.where(male, "male", "female"),
            "deprivation_quintile": quintile,
            "given_name": np.where(
                male, np.array(MALE_GIVEN)[given_m], np.array(FEMALE_GIVEN)[given_f]
            ),
            "family_name": np.array(FAMILY)[family],
            "dob": dob,
            "email_style": rng.integers(0, 3, size=n).astype(np.int8),
            "email_domain": np.array(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), size=n)],
            "phone_digits": phone_digits,
            "is_offender": is_offender,
            "known_offender": known,
            "is_vulnerable_child": vulnerable,
        }
    ).with_columns(
        pl.col("age").cast(pl.Int16),
        pl.col("dob").cast(pl.Date),
        pl.Series("age_band", np.array(AGE_BANDS)[age_band_codes(age)]),
    )
    handle = pl.col("family_name").str.replace_all(r"[^a-z]", "")
    people = people.with_columns(
        email=pl.concat_str(
            pl.when(pl.col("email_style") == 0)
            .then(
                pl.concat_str(
                    pl.col("given_name").str.replace_all(r"[^a-z]", ""), pl.lit("."), handle
                )
            )
            .when(pl.col("email_style") == 1)
            .then(pl.concat_str(pl.col("given_name").str.slice(0, 1), handle))
            .otherwise(
                pl.concat_str(
                    handle, pl.lit("_"), pl.col("given_name").str.replace_all(r"[^a-z]", "")
                )
            ),
            pl.col("person_id").cast(pl.Utf8),
            pl.lit("@"),
            pl.col("email_domain"),
        ),
        phone=pl.concat_str(pl.lit("+447"), pl.col("phone_digits").cast(pl.Utf8).str.zfill(9)),
    ).drop("email_style", "email_domain", "phone_digits")
    columns = [
        "person_id",
        "age",
        "age_band",
        "is_child",
        "sex",
        "deprivation_quintile",
        "given_name",
        "family_name",
        "dob",
        "email",
        "phone",
        "is_offender",
        "known_offender",
        "is_vulnerable_child",
    ]
    return Population(people=people.select(columns), traits=traits)


def period_end(config: WorldConfig) -> date:
    return config.period_start + timedelta(days=config.period_days)
