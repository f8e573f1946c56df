"""A device's case summary carries counts, the score and its reasons, and nothing of the
evidence: no conversation, address, path or hash from the report reaches it."""

from __future__ import annotations

import json

from safehold.triage.cases import case_summary
from tests.triage.test_refer import PHONE, report


def test_the_case_summary_holds_counts_and_reasons_only() -> None:
    source = report().model_copy(
        update={"reasons": ["12345678 files hashed: 0 points", "3 of 3 warned: 20.0 points"]}
    )
    summary = case_summary(source)
    assert summary.device_id == "device-07"
    assert summary.score == 40.0
    assert summary.counts["child_conversations"] == 3
    assert summary.counts["warned_conversations"] == 2
    assert "registry_checked" not in summary.counts
    assert summary.reasons[0] == "[number withheld] files hashed: 0 points"
    text = json.dumps(summary.payload())
    for leak in (PHONE, "sam_k", "sms.db", "/evidence"):
        assert leak not in text
    assert set(summary.payload()) == {"kind", "summary"}
