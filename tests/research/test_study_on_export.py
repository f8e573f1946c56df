"""A study and a linkage run on a real enclave export: a synthetic world prepared by the
member toolkit, every batch ingested into a hub database, the enclave tier exported, and
`safehold research link|run --world EXPORT` given that folder."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.client.batch_files import batches_from_prepared
from safehold.exchange import IdentifierKind
from safehold.identity import Pseudonymiser, generate_secret_file
from safehold.identity.prepare import prepare_member
from safehold.research.prereg import Outcome
from safehold.research.world_data import cached_enclave, link_cohort
from safehold.store.database import make_engine
from safehold.store.export import export_enclave
from safehold.store.ingest import ingest_batch
from safehold.store.members import Actor, add_member
from safehold.store.migrate import upgrade
from tests.research.conftest import write_prereg

pytestmark = pytest.mark.slow
OPERATOR = Actor("test-operator", "operator")


@pytest.fixture(scope="module")
def export(linkage_world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(export folder, coalition key file) for the linkage world."""
    root = tmp_path_factory.mktemp("export-study")
    key = generate_secret_file(root / "coalition.key", version=1)
    engine = make_engine(f"sqlite:///{root / 'hub.db'}")
    upgrade(engine)
    try:
        with Session(engine) as session, session.begin():
            for member_dir in sorted((linkage_world / "members").iterdir()):
                prepared = prepare_member(member_dir, key, root / "prepared" / member_dir.name)
                add_member(session, prepared.member, OPERATOR)
                for batch in batches_from_prepared(prepared.out):
                    ingest_batch(session, prepared.member.member_id, batch)
        with Session(engine) as session, session.begin():
            export_enclave(session, root / "export", OPERATOR)
    finally:
        engine.dispose()
    return root / "export", root / "coalition.key"


def _true_case_accounts(world: Path, key_file: Path) -> set[str]:
    """Pseudonyms (under the hub's key) of the accounts of people with a justice record."""
    from safehold.identity import load_coalition_key

    pseudonymiser = Pseudonymiser(load_coalition_key(key_file))
    offenders = pl.read_parquet(world / "truth" / "justice_records.parquet")["person_id"]
    accounts = pl.read_parquet(world / "truth" / "accounts.parquet").filter(
        pl.col("person_id").is_in(offenders.implode())
    )
    found: set[str] = set()
    for member_id in accounts["member_id"].unique():
        ids = accounts.filter(pl.col("member_id") == member_id)["account_id"].to_list()
        hashed = pseudonymiser.pseudonymise_many(IdentifierKind.ACCOUNT, ids, platform=member_id)
        found |= {h for h in hashed if h is not None}
    return found


def test_linkage_on_the_export_finds_the_cases(
    export: tuple[Path, Path], linkage_world: Path, tmp_path: Path
) -> None:
    folder, key_file = export
    out = tmp_path / "linkage.json"
    result = CliRunner().invoke(
        app, ["research", "link", "--world", str(folder), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "No ground truth in this input" in result.output
    summary = json.loads(out.read_text())
    assert summary["input"].startswith("enclave export ")
    assert "quality" not in summary
    # The truth is known to the test (it holds the world and the key): check it here.
    linkage, _labels = link_cohort(cached_enclave(folder), Outcome.CONVICTED_OFFENDER, 0)
    found = set(linkage.links["account"])
    true = _true_case_accounts(linkage_world, key_file)
    assert len(found & true) / len(found) >= 0.97
    assert len(found & true) / len(true) >= 0.8


def test_a_study_runs_on_the_export(export: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _key = export
    out = tmp_path / "study"
    prereg = write_prereg(tmp_path, fairness_groups=["size_band"])
    result = CliRunner().invoke(
        app, ["research", "run", "--world", str(folder), "--prereg", str(prereg), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["linkage"]["input"].startswith("enclave export ")
    assert report["cohort"]["case_accounts"] == report["linkage"]["linked_accounts"]
    assert report["permutation_test"]["rejects"]
    # The export's per-export source tokens are re-blinded to size bands, never reported.
    manifest = json.loads((folder / "enclave.json").read_text())
    text = (out / "report.json").read_text() + (out / "model-card.html").read_text()
    assert all(source["token"] not in text for source in manifest["sources"])
