"""The demo's research step on a world large enough for a study: it runs the study and says
where the model card is (`make demo` prints the same line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safehold.cli import demo_research
from safehold.cli.console import console

pytestmark = pytest.mark.slow


def test_demo_study_prints_where_the_model_card_is(
    strong_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(demo_research.DEMO_PREREG, "permutations", 39)
    with console.capture() as captured:
        demo_research.run_demo_study(strong_world, tmp_path)
    # Long paths wrap in the terminal: compare without whitespace.
    text = "".join(captured.get().split())
    card = tmp_path / "demo-study" / "model-card.html"
    assert card.is_file()
    assert f"Modelcard:{card}" in text
    assert "Finding:" in text and "ofevery100accountsflagged" in text
