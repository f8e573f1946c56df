"""The worker reads its rules file again when it changes: a file with an error is refused
with its line and reason while the rules in force stay; a good one is used from the next
message on, held events screened again with it once."""

from __future__ import annotations

import os
from pathlib import Path

from safehold.klaxon.nats_stream import ScreeningWorker
from safehold.klaxon.rules import DEFAULT_RULES, load_rules
from tests.klaxon.builders import CLOCK, T0, event, flags, frame

GOOD = """version: 1
window: 7d
alert_at: 50
rules:
  - id: flagged
    kind: flagged_sender_contacts_minor
    severity: 60
"""


def _rewrite(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    stamp = path.stat().st_mtime_ns + bump * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))  # a new mtime even on a coarse clock


def test_a_bad_rules_file_is_refused_and_a_good_one_taken_without_a_restart(
    tmp_path: Path,
) -> None:
    flags(tmp_path / "flags", registry=("reg",))
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(GOOD)
    said: list[str] = []
    worker = ScreeningWorker(
        flags_dir=tmp_path / "flags",
        rules=load_rules(rules_path),
        store_path=tmp_path / "store.sqlite",
        clock=lambda: CLOCK,
        say=said.append,
        rules_path=rules_path,
    )
    try:
        assert worker.screen.feed(frame([event("reg", "kid", T0)])).height == 1
        _rewrite(rules_path, GOOD.replace("severity: 60", "severity: 600"), 1)
        assert worker.reload_rules_if_changed() is False
        assert worker.report.rules_reload_errors == 1
        assert "line 7" in said[-1] and "severity" in said[-1]
        assert "rules in force stay" in said[-1]
        assert worker.screen.rules.rules[0].severity == 60  # still in force
        # A good file: an alert threshold the flagged rule no longer reaches on its own.
        _rewrite(rules_path, GOOD.replace("alert_at: 50", "alert_at: 70"), 2)
        assert worker.reload_rules_if_changed() is True
        assert worker.report.rules_reloads == 1 and worker.screen.rules.alert_at == 70
        changed = worker.screen.feed(frame([event("reg", "kid2", T0)], first_id=1))
        assert changed.height == 0  # 60 < 70: the new rules are in force
        assert worker.reload_rules_if_changed() is False  # unchanged file: nothing to do
    finally:
        worker.store.close()
    assert DEFAULT_RULES.endswith(".yaml")
