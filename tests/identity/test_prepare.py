"""Member-side preparation: exchange-valid output, no raw identifier leaves, linkage possible."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.identity import generate_secret_file
from safehold.identity.prepare import PrepareError, find_raw_identifiers, prepare_member
from safehold.synth.config import make_config
from safehold.synth.world import generate_world


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prep")
    generate_world(make_config(people=4_000, seed=3, conversations=40), root / "world")
    key = generate_secret_file(root / "coalition.key", version=1)
    for member_dir in sorted((root / "world" / "members").iterdir()):
        prepare_member(member_dir, key, root / "exchange" / member_dir.name)
    return root


def test_each_member_gets_the_files_of_its_kind(prepared: Path) -> None:
    ex = prepared / "exchange"
    assert {p.stem for p in (ex / "plat-large-1").glob("*.parquet")} == {
        "account_keys",
        "behaviour",
        "contact_events",
        "conversations",
    }
    assert {p.stem for p in (ex / "police-1").glob("*.parquet")} == {
        "registry_entries",
        "cohort_labels",
    }
    assert {p.stem for p in (ex / "la-1").glob("*.parquet")} == {"cohort_labels"}


def test_no_raw_identifier_reaches_the_exchange_files(prepared: Path) -> None:
    assert find_raw_identifiers(prepared / "world" / "members", prepared / "exchange") == []


def test_leak_detector_finds_a_planted_leak(prepared: Path, tmp_path: Path) -> None:
    raw = pl.read_parquet(prepared / "world/members/plat-small-1/accounts.parquet")
    email = raw["email"].drop_nulls()[0]
    shutil.copytree(prepared / "exchange", tmp_path / "exchange")
    pl.DataFrame({"note": [f"contact {email}"]}).write_parquet(
        tmp_path / "exchange/plat-small-1/leak.parquet"
    )
    assert find_raw_identifiers(prepared / "world" / "members", tmp_path / "exchange") == [
        str(tmp_path / "exchange/plat-small-1/leak.parquet")
    ]


def test_behaviour_subjects_match_account_keys(prepared: Path) -> None:
    keys = pl.read_parquet(prepared / "exchange/plat-medium-1/account_keys.parquet")
    behaviour = pl.read_parquet(prepared / "exchange/plat-medium-1/behaviour.parquet")
    assert behaviour.height == keys.height
    assert set(behaviour["subject"].struct.field("pseudonym")) == set(
        keys["subject"].struct.field("pseudonym")
    )


def test_justice_records_can_be_linked_to_platform_accounts(prepared: Path) -> None:
    """A known offender's email pseudonym in a police record equals the one on their account."""
    police = pl.read_parquet(prepared / "exchange/police-1/registry_entries.parquet")
    police_emails = set(
        police.select(pl.col("subjects").explode().struct.field("pseudonym"))
        .to_series()
        .drop_nulls()
    )
    platform_emails: set[str] = set()
    for path in (prepared / "exchange").glob("plat-*/account_keys.parquet"):
        ids = pl.read_parquet(path).select(pl.col("identifiers").explode()).unnest("identifiers")
        platform_emails |= set(ids.filter(pl.col("kind") == "email")["pseudonym"])
    shared = police_emails & platform_emails
    assert len(shared) >= 5
    # ...and the CLKs are there for the records with names.
    assert police["clk"].null_count() < police.height / 10


def test_another_key_version_gives_other_pseudonyms(prepared: Path, tmp_path: Path) -> None:
    key2 = generate_secret_file(tmp_path / "k2", version=2)
    prepare_member(prepared / "world/members/plat-small-2", key2, tmp_path / "v2")
    one = pl.read_parquet(prepared / "exchange/plat-small-2/behaviour.parquet")[
        "subject"
    ].struct.unnest()
    two = pl.read_parquet(tmp_path / "v2/behaviour.parquet")["subject"].struct.unnest()
    assert set(two["key_version"]) == {2} and set(one["key_version"]) == {1}
    assert not set(one["pseudonym"]) & set(two["pseudonym"])


def test_missing_member_file_is_a_clear_error(tmp_path: Path) -> None:
    key = generate_secret_file(tmp_path / "k", version=1)
    with pytest.raises(PrepareError, match=r"member\.json is missing"):
        prepare_member(tmp_path, key, tmp_path / "out")


def test_missing_column_names_the_file_and_column(prepared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(prepared / "world/members/plat-small-3", folder)
    accounts = pl.read_parquet(folder / "accounts.parquet").drop("username")
    accounts.write_parquet(folder / "accounts.parquet")
    key = generate_secret_file(tmp_path / "k", version=1)
    with pytest.raises(PrepareError, match=r"accounts\.parquet lacks column\(s\) username"):
        prepare_member(folder, key, tmp_path / "out")


def test_invalid_rows_are_named_before_anything_is_written(prepared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(prepared / "world/members/plat-small-3", folder)
    behaviour = pl.read_parquet(folder / "behaviour.parquet")
    behaviour = behaviour.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(2.0)
        .otherwise(pl.col("night_activity_share"))
        .alias("night_activity_share")
    )
    behaviour.write_parquet(folder / "behaviour.parquet")
    key = generate_secret_file(tmp_path / "k", version=1)
    with pytest.raises(
        PrepareError, match=r"plat-small-3/behaviour: row 7, field 'night_activity_share'"
    ):
        prepare_member(folder, key, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_keygen_and_prepare(prepared: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["member", "keygen", str(tmp_path / "key")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["member", "keygen", str(tmp_path / "key")])
    assert again.exit_code == 2
    result = runner.invoke(
        app,
        [
            "member",
            "prepare",
            str(prepared / "world/members/la-1"),
            "--key",
            str(tmp_path / "key"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cohort_labels" in result.output
    assert pl.read_parquet(tmp_path / "out/cohort_labels.parquet").height > 0


def test_each_bad_identifier_is_counted_once(prepared: Path, tmp_path: Path) -> None:
    """A justice record feeds both registry entries and cohort labels; its one invalid phone
    number is one identifier left out, not two."""
    folder = tmp_path / "police"
    shutil.copytree(prepared / "world/members/police-1", folder)
    records = pl.read_parquet(folder / "justice_records.parquet")
    records = records.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("+44 76 0"))
        .otherwise(pl.col("phone"))
        .alias("phone")
    )
    records.write_parquet(folder / "justice_records.parquet")
    key = generate_secret_file(tmp_path / "k", version=1)
    result = prepare_member(folder, key, tmp_path / "out")
    assert result.rejected_identifiers == 1
    assert result.files == {"registry_entries": records.height, "cohort_labels": records.height}
