"""The whole world: deterministic to the byte, complete, and refusing impossible parameters."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.synth.config import ConfigError, make_config
from safehold.synth.world import generate_world

SMALL = {"people": 3_000, "seed": 5, "conversations": 60}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(make_config(**SMALL), out)
    return out


def test_same_seed_gives_byte_identical_files(world: Path, tmp_path: Path) -> None:
    generate_world(make_config(**SMALL), tmp_path / "again")
    assert _digests(world) == _digests(tmp_path / "again")


def test_another_seed_gives_another_world(world: Path, tmp_path: Path) -> None:
    generate_world(make_config(**{**SMALL, "seed": 6}), tmp_path / "other")
    a = pl.read_parquet(world / "members/plat-large-1/behaviour.parquet")
    b = pl.read_parquet(tmp_path / "other/members/plat-large-1/behaviour.parquet")
    assert not a.equals(b)


def test_every_member_has_its_folder_and_truth_is_apart(world: Path) -> None:
    summary = json.loads((world / "world.json").read_text())
    members = {m["member_id"]: m["kind"] for m in summary["members"]}
    assert sum(kind == "platform" for kind in members.values()) == 6
    assert {"police", "probation", "court", "local_authority"} <= set(members.values())
    for member_id, kind in members.items():
        folder = world / "members" / member_id
        assert (folder / "member.json").exists()
        if kind == "platform":
            for name in ("accounts", "behaviour", "contact_events", "conversations", "messages"):
                assert (folder / f"{name}.parquet").exists(), f"{member_id}/{name}"
        # Member-side files never carry ground truth.
        for path in folder.glob("*.parquet"):
            columns = set(pl.read_parquet_schema(path))
            assert not columns & {
                "person_id",
                "is_offender",
                "known_offender",
                "stage",
                "label",
                "pattern",
            }, path
    for path in summary["files"]:
        assert (world / path).exists(), path


def test_summary_counts_match_the_files(world: Path) -> None:
    summary = json.loads((world / "world.json").read_text())
    counts = summary["counts"]
    assert counts["people"] == SMALL["people"]
    for member_id, n in counts["accounts"].items():
        assert pl.read_parquet(world / f"members/{member_id}/accounts.parquet").height == n
    events = pl.read_parquet(world / "truth/contact_events.parquet")
    approaches = events.filter(
        pl.col("approach_id").is_not_null() & (pl.col("pattern") != "benign_lookalike")
    )
    assert counts["planted_approach_events"] == approaches.height > 0
    assert counts["benign_lookalike_events"] == (events["pattern"] == "benign_lookalike").sum()
    truth = pl.read_parquet(world / "truth/people.parquet")
    assert truth["known_offender"].sum() == counts["known_offenders"]
    assert 0.5 <= summary["bayes_auroc"]["offender_vs_general_population"]["analytic"] < 1


def test_behaviour_rows_are_valid_exchange_values(world: Path) -> None:
    from safehold.exchange import behaviour_features

    frame = pl.read_parquet(world / "members/plat-medium-1/behaviour.parquet")
    for feature in behaviour_features():
        column = frame[feature.name]
        assert column.null_count() == 0
        assert column.min() >= feature.minimum and column.max() <= feature.maximum, feature.name  # type: ignore[operator]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--people", "-5"], "people"),
        (["--effect", "3.5"], "effect"),
        (["--effect", "-0.1"], "effect"),
        (["--selection-bias", "2"], "selection_bias"),
        (["--days", "0"], "period_days"),
    ],
)
def test_impossible_parameters_fail_with_one_line(
    args: list[str], fragment: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["synth", "world", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0] and "error" in lines[0]
    assert not (tmp_path / "w").exists()


def test_config_error_names_the_parameter() -> None:
    with pytest.raises(ConfigError, match=r"^effect: "):
        make_config(effect=9)


def test_refuses_to_overwrite_a_folder_that_is_not_a_world(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["synth", "world", "--out", str(precious), "--people", "2000"])
    assert result.exit_code == 2
    assert "not a Safehold world" in result.output
    assert (precious / "notes.txt").read_text() == "keep me"


def test_a_failed_generation_leaves_the_previous_world_untouched(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safehold.synth.world as world_module

    target = tmp_path / "w"
    generate_world(make_config(**SMALL), target)
    before = _digests(target)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(world_module, "generate_contact_events", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_world(make_config(**{**SMALL, "seed": 99}), target)
    assert _digests(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["w"]  # no staging folder left behind


def test_cross_parameter_errors_are_one_clean_line() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(people=300, offender_rate=0.001)
    assert str(caught.value).startswith("people: too few people")
    assert "{" not in str(caught.value)
