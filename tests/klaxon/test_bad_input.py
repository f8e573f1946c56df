"""Bad events, bad flags and bad rules files are refused with the input, the row or line,
and the fix; nothing of a refused batch is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from safehold.klaxon.events import ClockLimits, EventInputError, prepare_events
from safehold.klaxon.flags import FlagError, FlagStore, load_flags
from safehold.klaxon.rules import RulesFileError, load_rules, parse_rules
from tests.klaxon.builders import CLOCK, MEMBER, T0, event, flags, frame


def _prepare(data: pl.DataFrame, clock: ClockLimits = CLOCK) -> pl.DataFrame:
    return prepare_events(data, source="events.parquet", member_id=MEMBER, clock=clock)


GOOD = [event("a", "kid", T0), event("b", "kid", T0), event("c", "kid", T0)]


def test_good_events_pass() -> None:
    assert _prepare(frame(GOOD)).height == 3


def test_a_missing_column_is_named() -> None:
    with pytest.raises(EventInputError, match=r"events.parquet: missing column\(s\) channel"):
        _prepare(frame(GOOD).drop("channel"))


def test_an_empty_value_names_the_row() -> None:
    data = frame(GOOD).with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(None)
        .otherwise(pl.col("sender_account"))
        .alias("sender_account")
    )
    with pytest.raises(EventInputError, match="row 1: sender_account is empty"):
        _prepare(data)


def test_self_contact_names_the_row_and_event() -> None:
    rows = [*GOOD, event("same", "same", T0)]
    with pytest.raises(
        EventInputError, match=r"row 3 \(event plat-test:e000003\): sender and recipient"
    ):
        _prepare(frame(rows))


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("channel", "carrier_pigeon", "channel is 'carrier_pigeon'"),
        ("recipient_age_band", "teen", "recipient_age_band is 'teen'"),
    ],
)
def test_unknown_values_are_named(column: str, value: str, expected: str) -> None:
    data = frame(GOOD).with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    with pytest.raises(EventInputError, match=f"row 2 .*{expected}"):
        _prepare(data)


def test_wrong_types_and_naive_times_are_refused() -> None:
    with pytest.raises(EventInputError, match="first_contact holds"):
        _prepare(frame(GOOD).with_columns(pl.col("first_contact").cast(pl.Int8)))
    with pytest.raises(EventInputError, match="time zone; write it as UTC"):
        _prepare(frame(GOOD).with_columns(pl.col("occurred_at").dt.replace_time_zone(None)))


def test_an_unknown_member_is_refused() -> None:
    data = frame(GOOD).with_columns(pl.Series("member_id", [MEMBER, "plat-elsewhere", MEMBER]))
    with pytest.raises(EventInputError, match=r"row 1 .*member 'plat-elsewhere' is unknown"):
        _prepare(data)


@pytest.mark.parametrize(
    ("shift", "word"), [(timedelta(days=3), "future"), (timedelta(days=-3000), "past")]
)
def test_clock_skew_is_refused(shift: timedelta, word: str) -> None:
    rows = [*GOOD, event("late", "kid", CLOCK.now + shift)]
    with pytest.raises(EventInputError, match=f"row 3 .*too far in the {word}.*--now"):
        _prepare(frame(rows))


def test_times_in_another_zone_are_read_as_the_same_instant() -> None:
    data = frame(GOOD).with_columns(pl.col("occurred_at").dt.convert_time_zone("Europe/London"))
    assert _prepare(data)["at"].to_list() == [T0] * 3


# --- flags ---------------------------------------------------------------------------


def test_a_missing_flags_folder_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FlagError, match="safehold klaxon flags"):
        load_flags(tmp_path)


def test_a_model_flag_without_a_band_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlagError, match=r"row 0 .*needs a band"):
        flags(tmp_path, model={"x": "very"})


def test_flags_reload_without_a_restart_and_a_bad_folder_keeps_the_old(tmp_path: Path) -> None:
    flags(tmp_path, registry=("a",))
    store = FlagStore(tmp_path)
    assert not store.reload_if_changed()
    flags(tmp_path, registry=("a", "b"))
    assert store.reload_if_changed()
    assert sorted(store.current.senders["sender"].to_list()) == ["a", "b"]
    (tmp_path / "sender_flags.parquet").write_text("not parquet")
    with pytest.raises(FlagError, match=r"sender_flags\.parquet is not a readable Parquet"):
        store.reload_if_changed()
    assert sorted(store.current.senders["sender"].to_list()) == ["a", "b"]


# --- rules files -----------------------------------------------------------------------

GOOD_RULES = """version: 1
window: 7d
alert_at: 50
rules:
  - id: flagged
    kind: flagged_sender_contacts_minor
    severity: 60
  - id: fan
    kind: fan_out
    severity: 50
    within: 48h
"""


def test_the_packaged_rules_load() -> None:
    rules = load_rules()
    assert {r.kind for r in rules.rules} >= {  # type: ignore[attr-defined]
        "flagged_sender_contacts_minor", "first_contact", "fan_out", "night_time", "age_gap",
        "escalating_frequency", "conversation_risk",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("severity: 50", "severity: 500", 10, "less than or equal to 100"),
        ("within: 48h", "within: two days", 11, "not a duration"),
        ("kind: fan_out", "kind: fanout", 9, "does not match any of the expected tags"),
        ("id: fan", "id: flagged", 8, "used twice"),
        ("    within: 48h", "    within: 48h\n    colour: red", 12, "Extra inputs"),
        ("alert_at: 50", "alert_at: [50", 4, "not valid YAML"),
    ],
)
def test_a_bad_rules_file_names_the_line_and_the_reason(
    old: str, new: str, line: int, reason: str
) -> None:
    assert parse_rules(GOOD_RULES, source="rules.yaml").alert_at == 50
    with pytest.raises(RulesFileError, match=f"rules.yaml: line {line}: .*{reason}"):
        parse_rules(GOOD_RULES.replace(old, new), source="rules.yaml")


def test_more_rules_than_the_engine_can_hold_are_refused() -> None:
    many = "".join(
        f"  - id: first_{i}\n    kind: first_contact\n    severity: 1\n" for i in range(64)
    )
    text = "version: 1\nwindow: 7d\nalert_at: 50\nrules:\n" + many
    with pytest.raises(RulesFileError, match=r"rules\.yaml: line 5: .*at most 63"):
        parse_rules(text, source="rules.yaml")
    assert len(parse_rules(text.rsplit("  - id: first_63", 1)[0], source="r").rules) == 63


def test_a_rules_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(RulesFileError, match="line 1: the file must be a mapping"):
        load_rules(path)
    with pytest.raises(RulesFileError, match="not found"):
        load_rules(tmp_path / "absent.yaml")


def test_clock_limits_default_to_now() -> None:
    assert abs(ClockLimits.wall_clock().now - datetime.now(UTC)) < timedelta(minutes=1)
