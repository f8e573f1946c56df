from safehold.triage.media import HashMatch
from safehold.triage.scoring import CAPS, score_device


def _match(record: str, category: str, severity: int, path: str | None = None) -> HashMatch:
    return HashMatch(
        path or f"{record}.jpg", "md5", "0" * 32, "list", category, "1", severity, record, 0.0
    )


def test_nothing_found_scores_zero_with_a_reason() -> None:
    score = score_device([], [], [], None)
    assert score.score == 0.0
    assert score.reasons == [
        "no known items, near-duplicates or child conversations found: 0 points"
    ]


def test_more_serious_categories_score_higher_and_parts_are_capped() -> None:
    serious = score_device([_match("r1", "uk_a", 3)], [], [], None)
    lesser = score_device([_match("r1", "uk_c", 1)], [], [], None)
    assert serious.score > lesser.score > 0
    assert "uk_a: 1" in serious.reasons[0]
    many = score_device([_match(f"r{i}", "uk_a", 3) for i in range(40)], [], [], None)
    assert many.parts["known"] == CAPS["known"]
    # Copies of one listed item are one item, however many files hold it.
    copies = score_device([_match("r1", "uk_a", 3, f"copy{i}.jpg") for i in range(5)], [], [], None)
    assert copies.reasons[0].startswith("1 known items in 5 files")
    assert any(i.indicator.startswith("known indecent-image items") for i in copies.indicators)
