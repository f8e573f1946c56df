"""Whole-batch validation: every problem reported with its record index and field, no values."""

from __future__ import annotations

import copy
import json

import pytest

from safehold.exchange import BatchValidationError, validate_batch
from tests.exchange.samples import RECORDS, batch


def test_valid_batch_round_trips_through_json() -> None:
    parsed = validate_batch(json.dumps(batch()))
    again = validate_batch(parsed.model_dump_json())
    assert again == parsed
    assert [r.record_type for r in again.records] == [r["record_type"] for r in RECORDS.values()]


def test_errors_name_record_index_and_field() -> None:
    records = [copy.deepcopy(r) for r in RECORDS.values()]
    records[1]["night_activity_share"] = 3.0  # behaviour
    records[4]["channel"] = "carrier_pigeon"  # contact_event
    with pytest.raises(BatchValidationError) as caught:
        validate_batch(batch(records))
    found = {(e.index, e.field) for e in caught.value.errors}
    assert found == {(1, "night_activity_share"), (4, "channel")}
    assert "record 1, field 'night_activity_share'" in str(caught.value)


def test_nested_field_paths_are_reported() -> None:
    records = [copy.deepcopy(RECORDS["registry_entry"])]
    records[0]["subjects"][1]["pseudonym"] = "not-hex"
    with pytest.raises(BatchValidationError) as caught:
        validate_batch(batch(records))
    assert [(e.index, e.field) for e in caught.value.errors] == [(0, "subjects.1.pseudonym")]


def test_rejected_values_never_appear_in_errors() -> None:
    secret_looking = "alice.smith@example.com"
    records = [copy.deepcopy(RECORDS["signal"])]
    records[0]["value"] = secret_looking
    records[0]["kind"] = "url"
    with pytest.raises(BatchValidationError) as caught:
        validate_batch(batch(records))
    assert secret_looking not in str(caught.value)
    assert all(secret_looking not in e.reason for e in caught.value.errors)


def test_unknown_record_type_is_named() -> None:
    with pytest.raises(BatchValidationError) as caught:
        validate_batch(batch([{"record_type": "gossip"}]))
    assert caught.value.errors[0].index == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"schema_version": "9.9"}, "schema_version"),
        ({"records": []}, "records"),
        ({"member_id": ""}, "member_id"),
    ],
)
def test_batch_level_errors(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(BatchValidationError) as caught:
        validate_batch(batch(**overrides))
    assert caught.value.errors[0].index is None
    assert caught.value.errors[0].field == field


def test_malformed_json_is_a_batch_error() -> None:
    with pytest.raises(BatchValidationError, match=r"json|JSON"):
        validate_batch(b"{not json")
