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


def test_registry_matches_add_points_and_a_reason_without_any_address() -> None:
    from safehold.triage.registry_contacts import RegistryMatch, RegistryOutcome

    found = RegistryOutcome(
        checked=40,
        unusable=1,
        matches=(
            RegistryMatch("+447700900123", "phone", ("sms messages",), None),
            RegistryMatch("pal@example.org", "email", ("ios_sms messages",), "grooming"),
        ),
    )
    scored = score_device([], [], [], None, found)
    assert scored.parts["registry"] == 15.0 and scored.score == 15.0
    [reason] = scored.reasons
    assert "2 of 40 device contacts match the offender registry" in reason
    assert "grooming: 1" in reason
    assert "7700" not in reason and "example.org" not in reason
    assert "+447700900123 (phone; sms messages)" in scored.indicators[0].evidence
    none = score_device([], [], [], None, RegistryOutcome(checked=40, unusable=0, matches=()))
    assert none.parts["registry"] == 0.0 and "no match: 0 points" in none.reasons[0]
    assert "registry" not in " ".join(score_device([], [], [], None).reasons)
