"""Justice records and the identifier variation behind them: every known offender is on
record, the truth accounts for every record, agencies' copies vary at the configured rates
and in the ways the truth says, and nothing leaves the reserved example ranges."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import polars as pl
import pytest

from safehold.synth import typos
from safehold.synth.justice import (
    RECORD_COLUMNS,
    TRUTH_COLUMNS,
    JusticeRecords,
    RecordErrors,
    generate_justice_records,
)
from tests.synth.fixtures import small_population

MEMBERS = {"police-1": "police", "court-1": "court", "probation-1": "probation"}
PERIOD_END = date(2026, 4, 1)
GIVEN = (
    "amelia",
    "oliver",
    "isla",
    "noah",
    "william",
    "katherine",
    "elizabeth",
    "jakub",
    "robert",
    "zara",
)
FAMILY = (
    "smith",
    "jones",
    "patel",
    "nowak",
    "okafor",
    "da costa",
    "o'brien",
    "smith-jones",
    "begum",
    "reid",
)
RESERVED_EMAIL = re.compile(r"^[^@\s]+@(example\.(com|org|net)|[a-z0-9-]+\.example)$")


def make_people(n: int = 5_500, seed: int = 1, known_rate: float = 0.3) -> pl.DataFrame:
    """A small population from the real generator; many known offenders so that rates can
    be checked."""
    return small_population(
        n, seed=seed, child_share=0.25, offender_rate=min(known_rate * 2.0, 0.2), known_share=2 / 3
    ).people


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    return make_people()


def _generate(
    people: pl.DataFrame, seed: int = 5, errors: RecordErrors | None = None
) -> JusticeRecords:
    return generate_justice_records(
        people,
        rng=np.random.default_rng(seed),
        members=MEMBERS,
        period_end=PERIOD_END,
        errors=errors,
    )


@pytest.fixture(scope="module")
def justice(people: pl.DataFrame) -> JusticeRecords:
    return _generate(people)


@pytest.fixture(scope="module")
def joined(justice: JusticeRecords, people: pl.DataFrame) -> pl.DataFrame:
    """Every record with its truth and the person's own identity (``true_*``)."""
    records = pl.concat(list(justice.records.values()))
    own = people.select(
        pl.col("person_id"),
        *[
            pl.col(c).alias(f"true_{c}")
            for c in ("given_name", "family_name", "dob", "email", "phone")
        ],
    )
    return records.join(justice.truth, on="record_id", how="left").join(
        own, on="person_id", how="left"
    )


@pytest.fixture(scope="module")
def compared(joined: pl.DataFrame) -> pl.DataFrame:
    """Records of people in the population, whose own identity is known to compare with."""
    return joined.filter(~pl.col("justice_only"))


def test_same_seed_same_records_and_another_seed_differs(
    people: pl.DataFrame, justice: JusticeRecords
) -> None:
    again = _generate(people)
    for mid in MEMBERS:
        assert justice.records[mid].equals(again.records[mid])
    assert justice.truth.equals(again.truth)
    assert not justice.records["police-1"].equals(_generate(people, seed=6).records["police-1"])


def test_records_carry_no_person_id_and_have_the_schema(justice: JusticeRecords) -> None:
    assert set(justice.records) == set(MEMBERS)
    for mid, frame in justice.records.items():
        assert tuple(frame.columns) == RECORD_COLUMNS
        assert "person_id" not in frame.columns
        assert frame.schema["dob"] == pl.Date
        assert frame["record_id"].str.starts_with(f"{mid}:J").all()
        assert frame["record_id"].n_unique() == frame.height
        assert frame["given_name"].is_not_null().all() and frame["dob"].is_not_null().all()
    assert tuple(justice.truth.columns) == TRUTH_COLUMNS
    assert justice.truth.schema["person_id"] == pl.Int64


def test_every_known_offender_has_a_police_record(
    justice: JusticeRecords, people: pl.DataFrame
) -> None:
    known = set(people.filter(pl.col("known_offender"))["person_id"].to_list())
    assert len(known) > 500
    police = justice.truth.filter(pl.col("member_id") == "police-1")
    assert set(police.filter(~pl.col("justice_only"))["person_id"].to_list()) == known
    assert police["person_id"].n_unique() == police.height  # one police record each
    others = set(justice.truth.filter(pl.col("member_id") != "police-1")["person_id"].to_list())
    assert others <= set(
        police["person_id"].to_list()
    )  # no court or probation record without police


def test_truth_maps_every_record_to_a_person(
    justice: JusticeRecords, joined: pl.DataFrame, people: pl.DataFrame
) -> None:
    total = sum(frame.height for frame in justice.records.values())
    assert justice.truth.height == total
    assert joined["person_id"].is_not_null().all()
    in_population = joined["person_id"].is_in(people["person_id"].implode())
    assert (in_population == ~joined["justice_only"]).all()
    # A few records are of people who exist only in justice data: the linkage must leave them unmatched.
    share = joined["justice_only"].mean()
    assert share is not None and 0.005 < share < 0.05  # type: ignore[operator]
    extra = joined.filter(pl.col("justice_only"))
    assert extra["person_id"].min() > people["person_id"].max()  # type: ignore[operator]


def test_court_and_probation_shares(justice: JusticeRecords) -> None:
    persons = justice.truth.filter(pl.col("member_id") == "police-1").height
    court = justice.truth.filter(pl.col("member_id") == "court-1").height / persons
    probation = justice.truth.filter(pl.col("member_id") == "probation-1").height / persons
    assert abs(court - 0.9) < 0.04
    assert abs(probation - 0.6) < 0.05


def test_case_facts_are_consistent_and_shared(justice: JusticeRecords) -> None:
    frame = pl.concat(list(justice.records.values())).join(
        justice.truth.select("record_id", "person_id"), on="record_id"
    )
    month = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
    for column in ("convicted_month", "registered_from"):
        assert all(month.match(v) for v in frame[column].to_list())
    assert all(month.match(v) for v in frame["registered_until"].drop_nulls().to_list())
    assert (frame["registered_from"] >= frame["convicted_month"]).all()
    assert (frame["convicted_month"] >= "2011-04").all() and (
        frame["registered_from"] <= "2026-03"
    ).all()
    until = frame.filter(pl.col("registered_until").is_not_null())
    assert (until["registered_until"] >= until["registered_from"]).all()
    ref = "2026-04"  # as at period_end
    active = frame.filter(pl.col("status") == "active")
    assert (active["registered_until"].is_null() | (active["registered_until"] >= ref)).all()
    expired = frame.filter(pl.col("status") == "expired")
    assert (expired["registered_until"] < ref).all()
    withdrawn = frame.filter(pl.col("status") == "withdrawn")
    assert (withdrawn["registered_until"] < ref).all()
    assert {"active", "expired"} <= set(frame["status"].unique())
    assert frame["registered_until"].is_null().any()
    assert set(frame["typology"].unique()) == {"contact", "csem_only", "grooming", "other"}
    # One conviction per person: every agency records the same facts.
    facts = frame.group_by("person_id").agg(
        pl.struct("typology", "convicted_month", "registered_until", "status").n_unique().alias("n")
    )
    assert (facts["n"] == 1).all()


def test_record_numbers_say_nothing_about_the_person(justice: JusticeRecords) -> None:
    police = justice.truth.filter(pl.col("member_id") == "police-1").sort("record_id")
    number = np.arange(police.height)
    correlation = np.corrcoef(number, police["person_id"].to_numpy())[0, 1]
    assert abs(correlation) < 0.15


def _name_varied(frame: pl.DataFrame) -> pl.Series:
    return (frame["given_name_change"] != "none") | (frame["family_name_change"] != "none")


def test_variation_rates_are_as_configured(joined: pl.DataFrame, people: pl.DataFrame) -> None:
    assert abs(_name_varied(joined).mean() - 0.15) < 0.03  # type: ignore[operator]
    assert abs((joined["dob_change"] != "none").mean() - 0.05) < 0.02  # type: ignore[operator]
    more = _generate(people, seed=9, errors=RecordErrors(name_rate=0.4, dob_rate=0.2))
    assert abs(_name_varied(more.truth).mean() - 0.4) < 0.04  # type: ignore[operator]
    assert abs((more.truth["dob_change"] != "none").mean() - 0.2) < 0.03  # type: ignore[operator]
    kinds = set(joined["given_name_change"].unique())
    assert {"nickname", "substitution"} <= kinds
    assert {"double_barrelled"} <= set(joined["family_name_change"].unique())
    # Emails and phones are often missing or out of date.
    assert 0.2 < (joined["email"].is_null()).mean() < 0.8  # type: ignore[operator]
    assert (joined["phone_change"] == "old_number").mean() > 0.05  # type: ignore[operator]
    assert (joined["email_change"] == "old_address").mean() > 0.05  # type: ignore[operator]


def test_names_differ_exactly_where_the_truth_says(compared: pl.DataFrame) -> None:
    for column in ("given_name", "family_name"):
        same = compared[column].str.to_lowercase() == compared[f"true_{column}"]
        unchanged = compared[f"{column}_change"] == "none"
        assert (same == unchanged).all(), column
    nick = compared.filter(pl.col("given_name_change") == "nickname")
    for given, true in zip(
        nick["given_name"].str.to_lowercase(), nick["true_given_name"], strict=True
    ):
        assert given in typos.NICKNAMES[true]
    # House style: police write family names in capitals.
    police = compared.filter(pl.col("member_id") == "police-1")
    assert (police["family_name"] == police["family_name"].str.to_uppercase()).all()


def test_dob_errors_are_valid_dates_of_the_stated_kind(compared: pl.DataFrame) -> None:
    assert (compared["dob"] <= PERIOD_END).all()
    unchanged = compared.filter(pl.col("dob_change") == "none")
    assert (unchanged["dob"] == unchanged["true_dob"]).all()
    changed = compared.filter(pl.col("dob_change") != "none")
    assert changed.height > 20
    assert (changed["dob"] != changed["true_dob"]).all()
    for row in changed.iter_rows(named=True):
        got, true = row["dob"], row["true_dob"]
        if row["dob_change"] == "day_month_swap":
            assert (got.day, got.month, got.year) == (true.month, true.day, true.year)
        elif row["dob_change"] == "off_by_one_day":
            assert abs((got - true).days) == 1
        else:
            assert got.year != true.year and (got.month, got.day) in {
                (true.month, true.day),
                (2, 28),
            }
            assert sum(a != b for a, b in zip(str(got.year), str(true.year), strict=True)) == 1


def test_emails_and_phones_stay_in_reserved_ranges_and_say_what_changed(
    joined: pl.DataFrame, compared: pl.DataFrame
) -> None:
    emails = joined["email"].drop_nulls().to_list()
    assert emails and all(RESERVED_EMAIL.match(e) for e in emails)
    assert (joined["email"].is_null() == (joined["email_change"] == "missing")).all()
    for row in compared.filter(pl.col("email_change") == "none").iter_rows(named=True):
        assert row["email"] == row["true_email"]
    for row in compared.filter(pl.col("phone").is_not_null()).iter_rows(named=True):
        digits = re.sub(r"\D", "", row["phone"])
        e164 = "+" + digits if row["phone"].startswith("+") else "+44" + digits[1:]
        if row["phone_change"] == "old_number":
            assert e164.startswith(typos.FICTIONAL_MOBILE_PREFIX) and e164 != row["true_phone"]
        else:
            assert e164 == row["true_phone"]
            assert (row["phone"] == row["true_phone"]) == (row["phone_change"] == "none")


def test_unknown_member_kind_is_refused(people: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown justice member kinds"):
        generate_justice_records(
            people,
            rng=np.random.default_rng(1),
            members={"la-1": "local_authority"},
            period_end=PERIOD_END,
        )


def test_several_police_forces_share_the_load(people: pl.DataFrame) -> None:
    members = {"police-1": "police", "police-2": "police", "court-1": "court"}
    result = generate_justice_records(
        people, rng=np.random.default_rng(2), members=members, period_end=PERIOD_END
    )
    police = result.truth.filter(pl.col("member_id").str.starts_with("police"))
    assert police["person_id"].n_unique() == police.height
    assert (
        min(result.records["police-1"].height, result.records["police-2"].height)
        > 0.4 * police.height
    )


def test_no_known_offenders_gives_empty_frames(people: pl.DataFrame) -> None:
    none_known = people.with_columns(pl.lit(False).alias("known_offender"))
    result = generate_justice_records(
        none_known, rng=np.random.default_rng(1), members=MEMBERS, period_end=PERIOD_END
    )
    assert all(
        frame.height == 0 and tuple(frame.columns) == RECORD_COLUMNS
        for frame in result.records.values()
    )
    assert result.truth.height == 0


# --- identifier variation --------------------------------------------------------------


def _osa_distance(a: str, b: str) -> int:
    """Edit distance counting an adjacent transposition as one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_typos_are_one_keyboard_slip() -> None:
    names = list(GIVEN + FAMILY) * 30
    varied = typos.typo_names(np.random.default_rng(3), names, rate=0.5)
    changed = varied.change != "none"
    assert 0.4 < changed.mean() < 0.6
    assert set(varied.change[changed]) == set(typos.TYPO_KINDS)
    for old, new, kind in zip(names, varied.values, varied.change, strict=True):
        if kind == "none":
            assert new == old
            continue
        assert _osa_distance(old, new) == 1, (old, new, kind)
        if kind == "substitution":
            i = next(k for k, (x, y) in enumerate(zip(old, new, strict=True)) if x != y)
            assert new[i] in typos.KEYBOARD_NEIGHBOURS[old[i]]
        if kind == "doubled":
            assert len(new) == len(old) + 1 and re.search(r"(\w)\1", new)


def test_dob_variation_respects_the_calendar_and_the_latest_date() -> None:
    dobs = np.array(
        ["2000-02-29", "1999-12-31", "2026-03-31", "1985-05-05", "1990-01-12"],
        dtype="datetime64[D]",
    )
    varied = typos.vary_dobs(
        np.random.default_rng(4), np.repeat(dobs, 200), rate=1.0, latest=date(2026, 3, 31)
    )
    assert not np.isnat(varied.values).any()
    assert (varied.values <= np.datetime64("2026-03-31")).all()
    assert (varied.values != np.repeat(dobs, 200)).all()
    swapped = varied.values[varied.change == "day_month_swap"].astype(str)
    assert set(swapped) == {"1990-12-01"}  # the only date whose swap is another date


def test_phone_and_email_variants_have_the_documented_forms() -> None:
    phones = typos.vary_phones(np.random.default_rng(5), ["+447700912345"] * 400, reformat=1.0)
    forms = {
        "national_spaced": "07700 912345",
        "international_spaced": "+44 7700 912345",
        "bracketed": "(07700) 912-345",
    }
    assert set(phones.change) == set(forms)
    for value, kind in zip(phones.values, phones.change, strict=True):
        assert value == forms[kind]
    missing = typos.vary_phones(
        np.random.default_rng(5), ["+447700912345", None] * 200, missing=0.5
    )
    gone = missing.change == "missing"
    assert all(v is None for v in missing.values[gone])
    assert not gone[1::2].any()  # nothing to lose where nothing was held
    assert 0.4 < gone[::2].mean() < 0.6
    emails = typos.vary_emails(
        np.random.default_rng(6),
        ["ann.lee12@example.com", "bo7@post.example"] * 300,
        outdated=0.3,
        variant=0.6,
    )
    assert {"old_address", "other_domain", "dots"} <= set(emails.change)
    assert all(RESERVED_EMAIL.match(e) for e in emails.values)
    assert all(
        v != o
        for v, o, k in zip(
            emails.values,
            ["ann.lee12@example.com", "bo7@post.example"] * 300,
            emails.change,
            strict=True,
        )
        if k != "none"
    )


def test_family_name_changes() -> None:
    names = ["smith", "smith-jones", "da costa"] * 200
    varied = typos.vary_family_names(
        np.random.default_rng(7), names, rate=1.0, change_share=1.0, stock=("reid", "khan")
    )
    for old, new, kind in zip(names, varied.values, varied.change, strict=True):
        if kind == "double_barrelled":
            assert "-" in new and old in new.split("-")
        elif kind == "hyphen_dropped":
            assert old == "smith-jones" and new in {"smith jones", "smithjones"}
        elif kind == "part_dropped":
            assert new in re.split(r"[- ]", old)
        else:
            assert kind == "married_name" and new in {"reid", "khan"}
    assert {"double_barrelled", "hyphen_dropped", "part_dropped", "married_name"} == set(
        varied.change
    )
