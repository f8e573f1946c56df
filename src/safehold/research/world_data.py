"""Reading a study's inputs: the pooled behaviour records of every platform member, each
account's size band, and which accounts belong to the cases.

Linkage here uses the folder's linkage truth (``truth/accounts.parquet`` and the justice and
local-authority truth tables): the study is built on perfect linkage first, and the
probabilistic linkage of justice records to accounts (Splink) is a later step. Member ids are
replaced by tokens that show only the platform's size band (source blinding)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from safehold.research.errors import StudyError
from safehold.research.prereg import Outcome

_CASE_TRUTH: dict[Outcome, str] = {
    Outcome.CONVICTED_OFFENDER: "truth/justice_records.parquet",
    Outcome.VULNERABLE_CHILD: "truth/children_known.parquet",
}


@dataclass(frozen=True)
class StudyInputs:
    """One row per platform account: ``subject`` (blinded), ``person`` (linked person key),
    ``platform`` (blinded token), ``size_band``, demographics, features and ``is_case``."""

    accounts: pl.DataFrame
    linkage: str


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise StudyError(
            f"{path} not found: the study needs {what}; give --world a folder written by "
            "`safehold synth world`"
        )
    return path


def _platforms(world: Path) -> dict[str, str]:
    """member_id -> size band, for every platform member in the folder."""
    bands: dict[str, str] = {}
    for member_file in sorted(_need(world / "members", "member folders").glob("*/member.json")):
        member = json.loads(member_file.read_text())
        if member.get("kind") == "platform" and member.get("size_band"):
            bands[str(member["member_id"])] = str(member["size_band"])
    if not bands:
        raise StudyError(
            f"{world / 'members'} holds no platform member (member.json with kind platform)"
        )
    return bands


def _blind_tokens(bands: dict[str, str]) -> dict[str, str]:
    """A token per platform that names only its size band, ordered by a hash of the id."""
    order = sorted(bands, key=lambda m: hashlib.sha256(m.encode()).hexdigest())
    seen: dict[str, int] = {}
    tokens: dict[str, str] = {}
    for member_id in order:
        band = bands[member_id]
        seen[band] = seen.get(band, 0) + 1
        tokens[member_id] = f"{band}-{seen[band]}"
    return tokens


def load_study_inputs(world: Path, outcome: Outcome) -> StudyInputs:
    if not world.is_dir():
        raise StudyError(
            f"--world {world} is not a folder; give a folder written by `safehold synth world`"
        )
    bands = _platforms(world)
    tokens = _blind_tokens(bands)
    frames = []
    for member_id in sorted(bands):
        path = _need(
            world / "members" / member_id / "behaviour.parquet", "each platform's behaviour records"
        )
        frames.append(
            pl.read_parquet(path).with_columns(
                member_id=pl.lit(member_id),
                platform=pl.lit(tokens[member_id]),
                size_band=pl.lit(bands[member_id]),
            )
        )
    behaviour = pl.concat(frames, how="diagonal_relaxed")
    links = pl.read_parquet(
        _need(world / "truth" / "accounts.parquet", "the linkage truth (truth/accounts.parquet)")
    ).select("account_id", "person_id")
    case_truth = pl.read_parquet(
        _need(world / _CASE_TRUTH[outcome], f"the {outcome.value} records")
    )
    if "justice_only" in case_truth.columns:
        case_truth = case_truth.filter(~pl.col("justice_only"))
    cases = case_truth.select("person_id").unique().with_columns(is_case=pl.lit(True))
    accounts = (
        behaviour.join(links, on="account_id", how="left")
        .join(cases, on="person_id", how="left")
        .with_columns(pl.col("is_case").fill_null(False))
    )
    unlinked = accounts.filter(pl.col("person_id").is_null()).height
    if unlinked:
        raise StudyError(
            f"{unlinked} behaviour records have no row in truth/accounts.parquet; regenerate the world"
        )
    accounts = (
        accounts.with_row_index("subject")
        .with_columns(
            pl.format("s{}", pl.col("subject")).alias("subject"),
            pl.col("person_id").rank("dense").cast(pl.Int64).alias("person"),
        )
        .drop("account_id", "person_id", "member_id")
    )
    return StudyInputs(
        accounts=accounts, linkage="ground truth of the synthetic world (perfect linkage)"
    )
