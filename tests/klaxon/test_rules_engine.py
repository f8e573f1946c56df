"""Each rule on hand-built events: it fires where it should and stays quiet where not."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from safehold.klaxon.engine import screen
from safehold.klaxon.rules import RuleSet, load_rules, parse_rules
from tests.klaxon.builders import T0, event, flags, hours, prepared


def only(rule_yaml: str, *, window: str = "7d", alert_at: int = 10) -> RuleSet:
    body = "\n".join("    " + line for line in rule_yaml.strip().splitlines())
    text = f"version: 1\nwindow: {window}\nalert_at: {alert_at}\nrules:\n  - severity: 10\n{body}\n"
    return parse_rules(text, source="test")


def pairs(alerts: pl.DataFrame) -> set[tuple[str, str]]:
    return set(zip(alerts["sender"], alerts["recipient"], strict=True))


def test_flagged_sender_contacting_a_minor(tmp_path: Path) -> None:
    rules = only("id: flagged\nkind: flagged_sender_contacts_minor\nmodel_bands: [high]")
    fs = flags(tmp_path, registry=("reg",), model={"hi": "high", "mid": "medium"})
    alerts = screen(
        prepared(
            [
                event("reg", "kid1", T0),
                event("hi", "kid2", T0),
                event("mid", "kid3", T0),  # a medium band is below the rule's bands
                event("other", "kid4", T0),  # not flagged
                event("reg", "adult", T0, recipient_band="35_44"),  # not a child
            ]
        ),
        fs,
        rules,
    )
    assert pairs(alerts) == {("reg", "kid1"), ("hi", "kid2")}
    assert all(r == ["flagged"] for r in alerts["rules"].to_list())
    assert "registry match" in alerts["reasons"][0][0]


def test_a_child_known_only_from_the_markers_counts_and_child_senders_do_not(
    tmp_path: Path,
) -> None:
    rules = only("id: flagged\nkind: flagged_sender_contacts_minor")
    fs = flags(tmp_path, registry=("reg",), minors={"kid": "under_13"})
    alerts = screen(
        prepared(
            [
                event("reg", "kid", T0, recipient_band=None),  # band unknown to the event
                event("reg", "teen", T0, sender_band="16_17"),  # the sender says it is a child
            ]
        ),
        fs,
        rules,
    )
    assert pairs(alerts) == {("reg", "kid")}


def test_first_contact(tmp_path: Path) -> None:
    rules = only("id: first\nkind: first_contact")
    alerts = screen(
        prepared(
            [event("a", "kid", T0, first_contact=True), event("b", "kid", T0, first_contact=False)]
        ),
        flags(tmp_path),
        rules,
    )
    assert pairs(alerts) == {("a", "kid")}


def test_fan_out_needs_enough_distinct_children_within_the_bucket(tmp_path: Path) -> None:
    rules = only("id: fan\nkind: fan_out\nmin_children: 3\nwithin: 1d")
    start = T0.replace(hour=0)
    rows = [event("wide", f"kid{i}", start + hours(i)) for i in range(3)]
    rows += [event("narrow", "kidx", start + hours(i)) for i in range(5)]  # one child, often
    rows += [event("narrow", "kidy", start + hours(1))]
    rows += [event("slow", f"kid{i}", start + hours(30 * i)) for i in range(3)]  # a day apart
    alerts = screen(prepared(rows), flags(tmp_path), rules)
    assert pairs(alerts) == {("wide", "kid0"), ("wide", "kid1"), ("wide", "kid2")}


def test_fan_out_counts_only_its_channels(tmp_path: Path) -> None:
    rules = only("id: fan\nkind: fan_out\nmin_children: 3\nwithin: 1d\nchannels: [direct_message]")
    start = T0.replace(hour=0)
    rows = [event("coach", f"kid{i}", start + hours(i), channel="group_invite") for i in range(5)]
    assert screen(prepared(rows), flags(tmp_path), rules).height == 0


def test_night_time_with_repeats(tmp_path: Path) -> None:
    rules = only(
        "id: night\nkind: night_time\nstart_hour: 0\nend_hour: 5\nmin_events: 2\nwithin: 30d"
    )
    night = T0.replace(hour=2)
    rows = [
        event("repeat", "kid", night),
        event("repeat", "kid", night + hours(24 * 3)),
        event("once", "kid", night),  # one night contact only
        event("once", "kid", night + hours(10)),  # by day
        event("far", "kid", night),
        event("far", "kid", night + hours(24 * 40)),  # beyond 30 days
    ]
    alerts = screen(prepared(rows), flags(tmp_path), rules)
    assert pairs(alerts) == {("repeat", "kid")}
    assert alerts["first_event_at"][0].day == (night + hours(72)).day  # the second contact


def test_age_gap(tmp_path: Path) -> None:
    rules = only("id: gap\nkind: age_gap\nmin_band_gap: 3")
    rows = [
        event("old", "kid", T0, sender_band="35_44", recipient_band="13_15"),  # 6 - 1 = 5
        event("young", "kid", T0, sender_band="18_24", recipient_band="16_17"),  # 3 - 2 = 1
        event("unknown", "kid", T0, sender_band=None),  # no band, no gap known
    ]
    assert pairs(screen(prepared(rows), flags(tmp_path), rules)) == {("old", "kid")}


def test_escalating_frequency(tmp_path: Path) -> None:
    rules = only(
        "id: esc\nkind: escalating_frequency\nmin_gaps: 3\nmax_ratio: 0.8\n"
        "min_first_gap: 12h\nwithin: 30d"
    )
    speeding, steady, quick = [], [], []
    t = T0
    for gap in (96, 60, 36, 20):  # hours: each at most 0.8 of the one before
        t += hours(gap)
        speeding.append(event("esc", "kid", t))
    speeding.insert(0, event("esc", "kid", T0))
    steady = [event("steady", "kid", T0 + hours(48 * i)) for i in range(6)]
    quick = [event("chat", "kid", T0 + hours(0.1 * i * (5 - i))) for i in range(5)]  # minutes
    alerts = screen(prepared(speeding + steady + quick), flags(tmp_path), rules)
    assert pairs(alerts) == {("esc", "kid")}


def test_conversation_risk_applies_only_to_linked_conversations(tmp_path: Path) -> None:
    rules = only("id: conv\nkind: conversation_risk\nthreshold: 0.6")
    fs = flags(tmp_path, conversation_risk={"c-risky": 0.9, "c-calm": 0.1})
    rows = [
        event("a", "kid", T0, conversation_id="c-risky"),
        event("b", "kid", T0, conversation_id="c-calm"),
        event("c", "kid", T0, conversation_id=None),
        event("d", "kid", T0, conversation_id="c-unknown"),
    ]
    assert pairs(screen(prepared(rows), fs, rules)) == {("a", "kid")}


def test_conversation_risk_is_skipped_cleanly_without_scores(tmp_path: Path) -> None:
    rules = only("id: conv\nkind: conversation_risk\nthreshold: 0.6")
    rows = [event("a", "kid", T0, conversation_id="c1")]
    assert screen(prepared(rows), flags(tmp_path), rules).height == 0


def test_vulnerable_recipient(tmp_path: Path) -> None:
    rules = only("id: vul\nkind: vulnerable_recipient")
    fs = flags(tmp_path, vulnerable=("kidv",))
    rows = [event("a", "kidv", T0, recipient_band=None), event("a", "kid", T0)]
    assert pairs(screen(prepared(rows), fs, rules)) == {("a", "kidv")}


def test_severities_add_up_to_the_threshold_and_each_rule_counts_once(tmp_path: Path) -> None:
    rules = load_rules()  # first contact 15 + age gap 10 + vulnerable 15 = 40 < 50
    fs = flags(tmp_path, vulnerable=("kidv",), registry=("reg",))
    rows = [
        event("a", "kidv", T0, first_contact=True),
        event("a", "kidv", T0 + hours(1), first_contact=True),
        event("reg", "kid", T0, first_contact=True),
        event("reg", "kid", T0 + hours(2)),
    ]
    alerts = screen(prepared(rows), fs, rules)
    assert pairs(alerts) == {("reg", "kid")}
    row = alerts.row(0, named=True)
    assert row["rules"] == ["flagged_sender", "first_contact", "age_gap"]  # by severity
    assert row["severity"] == 60 + 15 + 10 == sum(row["rule_severities"])
    assert len(row["reasons"]) == 3
    assert row["events"] == 2


@pytest.mark.parametrize("count", [10, 12])  # up to 10 rules: a table of every combination
def test_many_rules_each_give_their_reason_in_severity_order(tmp_path: Path, count: int) -> None:
    body = "".join(
        f"  - {{id: first_{i:02d}, kind: first_contact, severity: {i + 1}}}\n"
        f"  - {{id: gap_{i:02d}, kind: age_gap, severity: {i + 1}, min_band_gap: {i % 3 + 1}}}\n"
        for i in range(count // 2)
    )
    rules = parse_rules(f"version: 1\nwindow: 7d\nalert_at: 1\nrules:\n{body}", source="t")
    fs = flags(tmp_path)
    rows = [
        event("a", "kid", T0, first_contact=True),  # 35_44 to 13_15: a gap of 3 bands
        event("b", "kid", T0, sender_band="18_24"),  # a gap of 2: only gaps up to 2 fire
    ]
    alerts = screen(prepared(rows), fs, rules).sort("sender")
    fired = {(r.severity, r.id) for r in rules.rules}
    first = alerts.row(0, named=True)
    assert first["rules"] == [i for _, i in sorted(fired, key=lambda f: (-f[0], f[1]))]
    assert first["severity"] == sum(first["rule_severities"]) == sum(s for s, _ in fired)
    second = alerts.row(1, named=True)
    expected = sorted(
        (r.severity, r.id)
        for r in rules.rules
        if r.id.startswith("gap") and r.min_band_gap <= 2  # type: ignore[attr-defined]
    )
    assert second["rules"] == [i for _, i in sorted(expected, key=lambda f: (-f[0], f[1]))]
    assert second["rule_severities"] == sorted((s for s, _ in expected), reverse=True)
    assert len(second["reasons"]) == len(expected)


def test_a_new_window_is_a_new_alert_with_its_own_id(tmp_path: Path) -> None:
    rules = only("id: flagged\nkind: flagged_sender_contacts_minor", window="1d")
    fs = flags(tmp_path, registry=("reg",))
    rows = [
        event("reg", "kid", T0),
        event("reg", "kid", T0 + hours(1)),
        event("reg", "kid", T0 + hours(30)),
    ]
    alerts = screen(prepared(rows), fs, rules)
    assert alerts.height == 2
    assert alerts["alert_id"].n_unique() == 2
    assert sorted(alerts["events"].to_list()) == [1, 2]


@pytest.mark.parametrize("seed_rows", [0, 1])
def test_alert_ids_do_not_depend_on_event_order(tmp_path: Path, seed_rows: int) -> None:
    rules = load_rules()
    fs = flags(tmp_path, registry=("reg",))
    rows = [event("reg", f"kid{i % 3}", T0 + hours(i)) for i in range(9)]
    forward = screen(prepared(rows), fs, rules)
    shuffled = prepared(rows).sample(fraction=1.0, shuffle=True, seed=seed_rows)
    assert screen(shuffled, fs, rules).equals(forward)
