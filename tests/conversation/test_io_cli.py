"""NDJSON input and output, and the `safehold conversation` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.conversation.io import InputLineError, parse_message, read_messages
from safehold.conversation.model import RiskModel

from .conftest import GROOMING_LIKE, chat

runner = CliRunner()


def _line(**overrides: object) -> str:
    record: dict[str, object] = {
        "conversation_id": "c1",
        "message_id": "m1",
        "sender_id": "a",
        "sent_at": "2026-01-31T21:05:00Z",
        "text": "hello",
    }
    record.update(overrides)
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def test_parse_message_reads_optional_band_and_zulu_time() -> None:
    message = parse_message(_line(sender_age_band="13_15"))
    assert message.sender_age_band == "13_15"
    assert message.sent_at.utcoffset() is not None
    assert parse_message(_line()).sender_age_band is None


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_line(text=...), "missing field(s) text"),
        (_line(sent_at="yesterday"), "ISO 8601"),
        (_line(sender_age_band="teen"), "sender_age_band 'teen'"),
        (_line(message_id=""), "message_id must be a non-empty string"),
        (_line(text=5), "text must be a string"),
    ],
)
def test_bad_lines_name_the_line_and_the_fix(line: str, needle: str) -> None:
    with pytest.raises(InputLineError) as info:
        list(read_messages(["", _line(), line], source="in.ndjson"))
    assert "in.ndjson, line 3" in str(info.value)
    assert needle in str(info.value)


def _write_input(path: Path) -> None:
    messages = chat(GROOMING_LIKE, "g1") + chat(
        [("did you finish the homework?", "13_15"), ("yes", "13_15")], "o1"
    )
    lines = [
        json.dumps(
            {
                "conversation_id": m.conversation_id,
                "message_id": m.message_id,
                "sender_id": m.sender_id,
                "sender_age_band": m.sender_age_band,
                "sent_at": m.sent_at.isoformat(),
                "text": m.text,
            }
        )
        for m in reversed(messages)  # any order
    ]
    path.write_text("\n".join(lines) + "\n")


def test_score_command_writes_one_line_per_conversation(
    tmp_path: Path, small_model: RiskModel
) -> None:
    model_dir = tmp_path / "model"
    small_model.save(model_dir)
    source = tmp_path / "in.ndjson"
    _write_input(source)
    out = tmp_path / "out" / "scores.ndjson"
    result = runner.invoke(
        app, ["conversation", "score", str(source), "--out", str(out), "--model", str(model_dir)]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output.replace("\n", "")
    rows = {r["conversation_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"g1", "o1"}
    g1 = rows["g1"]
    assert g1["label"] == "risk"
    assert isinstance(g1["messages_to_warning"], int)
    assert g1["first_warning_message_id"] == f"m{g1['messages_to_warning'] - 1}"
    texts = {f"m{i}": t for i, (t, _) in enumerate(GROOMING_LIKE)}
    spans = {texts[e["message_id"]][e["start"] : e["end"]] for e in g1["evidence"]}
    assert spans and "so mature" in spans  # the flagged opener that led to the warning
    warned_at = g1["messages_to_warning"]
    assert all(int(e["message_id"][1:]) < warned_at for e in g1["evidence"])
    assert set(g1["evidence"][0]) == {"message_id", "stage", "start", "end"}
    assert rows["o1"]["label"] == "no_risk"
    assert rows["o1"]["messages_to_warning"] is None
    assert 0.0 <= rows["o1"]["risk"] <= 1.0


def test_score_command_reports_a_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(_line() + "\n" + _line(sent_at="soon") + "\n")
    result = runner.invoke(
        app, ["conversation", "score", str(source), "--out", str(tmp_path / "o.ndjson")]
    )
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert "ISO 8601" in result.output


def test_score_command_with_a_missing_model_says_how_to_make_one(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(_line() + "\n")
    result = runner.invoke(
        app,
        ["conversation", "score", str(source), "--out", str(tmp_path / "o"), "--model",
         str(tmp_path / "none")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "conversation train" in result.output


def test_train_command_saves_a_loadable_model(tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = runner.invoke(
        app, ["conversation", "train", "--out", str(out), "--conversations", "120", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    model = RiskModel.load(out)
    assert model.metadata["conversations"] == 120
    assert model.metadata["seed"] == 2
