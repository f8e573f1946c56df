"""Generate a whole synthetic coalition world and write it out: one folder per member with
what that member would hold (Parquet), ground truth in a separate folder, and a summary.

Each component draws from its own seeded stream (``SeedSequence.spawn``), so the same seed
gives byte-identical files and a change to one generator leaves the others' output alone."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from safehold.exchange import SCHEMA_VERSION, Member, MemberKind
from safehold.synth.accounts import generate_accounts
from safehold.synth.bayes import bayes_auroc, observed_log_lr, rank_auroc, sample_bayes_auroc
from safehold.synth.behaviour import generate_behaviour
from safehold.synth.behaviour_model import offender_shift, vulnerable_shift
from safehold.synth.config import WorldConfig
from safehold.synth.contacts import generate_contact_events
from safehold.synth.conversations import generate_conversations
from safehold.synth.justice import generate_justice_records
from safehold.synth.population import generate_population, period_end
from safehold.synth.roster import DEFAULT_MEMBERS, PLATFORM_WEIGHTS, justice_members, platforms
from safehold.synth.safeguarding import generate_children_known

GENERATOR_VERSION = "1"
STEPS = (
    "population",
    "accounts",
    "behaviour",
    "justice records",
    "children known to services",
    "contact events",
    "conversations",
    "writing files",
)
Progress = Callable[[str], None]


@dataclass
class WorldSummary:
    """What was made and where; also written as ``world.json``."""

    out: Path
    config: WorldConfig
    counts: dict[str, Any] = field(default_factory=dict)
    bayes_auroc: dict[str, dict[str, float]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "generator": "safehold.synth",
            "generator_version": GENERATOR_VERSION,
            "schema_version": SCHEMA_VERSION,
            "config": self.config.model_dump(mode="json"),
            "members": [m.model_dump(mode="json") for m in DEFAULT_MEMBERS],
            "counts": self.counts,
            "bayes_auroc": self.bayes_auroc,
            "files": sorted(self.files),
        }


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[str] = []

    def parquet(self, frame: pl.DataFrame, relative: str) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path, compression="zstd", compression_level=3, statistics=True)
        self.files.append(relative)

    def json(self, payload: object, relative: str) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        self.files.append(relative)


def _streams(seed: int) -> dict[str, np.random.Generator]:
    names = (
        "population",
        "accounts",
        "behaviour",
        "justice",
        "safeguarding",
        "contacts",
        "conversations",
        "placement",
    )
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


class WorldDestinationError(ValueError):
    """The output folder cannot take a world; the message names it and the fix."""


def check_destination(out: Path) -> None:
    """A world may go into a new folder, an empty one, or over a previous world; never over
    anything else, which would be lost."""
    if not out.exists():
        return
    if not out.is_dir():
        raise WorldDestinationError(f"{out} exists and is not a folder; choose another --out")
    if any(out.iterdir()) and not (out / "world.json").exists():
        raise WorldDestinationError(
            f"{out} is not empty and holds no world.json, so it is not a Safehold world; "
            "choose a new or empty folder for --out"
        )


def generate_world(
    config: WorldConfig, out: Path, progress: Progress | None = None
) -> WorldSummary:
    """Generate the world described by ``config`` into ``out``.

    Whole or nothing: the world is written to a staging folder beside ``out`` and swapped
    into place at the end, replacing a previous world there (see ``check_destination``)."""
    check_destination(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        summary = _generate(config, staging, progress)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary.out = out
    return summary


def _generate(config: WorldConfig, out: Path, progress: Progress | None) -> WorldSummary:
    step = progress or (lambda _name: None)
    rng = _streams(config.seed)
    writer = _Writer(out)
    summary = WorldSummary(out=out, config=config)
    platform_members = platforms()

    step("population")
    population = generate_population(config, rng["population"])
    people = population.people
    step("accounts")
    accounts = generate_accounts(population, platform_members, rng["accounts"])
    step("behaviour")
    behaviour, residual = generate_behaviour(config, population, accounts, rng["behaviour"])
    summary.bayes_auroc = _bayes_figures(config, people, accounts, residual, behaviour)
    del residual
    step("justice records")
    justice = generate_justice_records(
        people, rng=rng["justice"], members=justice_members(), period_end=period_end(config)
    )
    step("children known to services")
    la = next(m for m in DEFAULT_MEMBERS if m.kind is MemberKind.LOCAL_AUTHORITY)
    children_known, children_truth = generate_children_known(
        people, member_id=la.member_id, rng=rng["safeguarding"], period_start=config.period_start
    )
    step("contact events")
    contacts = generate_contact_events(
        people,
        accounts,
        rng=rng["contacts"],
        start=config.start_datetime,
        days=config.period_days,
        events_per_account=config.contacts_per_account,
    )
    step("conversations")
    conversations = generate_conversations(
        config.n_conversations,
        seed=int(rng["conversations"].integers(0, 2**31)),
        start=config.start_datetime,
        period_days=config.period_days,
    )
    conversation_members = _place_conversations(
        conversations.conversations, platform_members, rng["placement"]
    )

    step("writing files")
    for member in DEFAULT_MEMBERS:
        writer.json(member.model_dump(mode="json"), f"members/{member.member_id}/member.json")
    for member in platform_members:
        mid = member.member_id
        mine = accounts.filter(pl.col("member_id") == mid)
        writer.parquet(mine.drop("person_id", "member_id"), f"members/{mid}/accounts.parquet")
        writer.parquet(
            behaviour.filter(pl.col("account_id").str.starts_with(f"{mid}:")),
            f"members/{mid}/behaviour.parquet",
        )
        writer.parquet(contacts.events[mid], f"members/{mid}/contact_events.parquet")
        conv_ids = conversation_members.filter(pl.col("member_id") == mid).select("conversation_id")
        convs = conversations.conversations.join(
            conv_ids, on="conversation_id", how="semi", maintain_order="left"
        )
        writer.parquet(
            convs.select("conversation_id", "channel", "participant_ids", "participant_age_bands"),
            f"members/{mid}/conversations.parquet",
        )
        msgs = conversations.messages.join(
            conv_ids, on="conversation_id", how="semi", maintain_order="left"
        )
        writer.parquet(msgs.drop("stage"), f"members/{mid}/messages.parquet")
    for mid, records in justice.records.items():
        writer.parquet(records, f"members/{mid}/justice_records.parquet")
    writer.parquet(children_known, f"members/{la.member_id}/children_known.parquet")

    writer.parquet(
        people.select(
            "person_id",
            "age",
            "age_band",
            "sex",
            "deprivation_quintile",
            "is_child",
            "is_offender",
            "known_offender",
            "is_vulnerable_child",
        ),
        "truth/people.parquet",
    )
    writer.parquet(
        accounts.select("account_id", "member_id", "person_id"), "truth/accounts.parquet"
    )
    writer.parquet(justice.truth, "truth/justice_records.parquet")
    writer.parquet(children_truth, "truth/children_known.parquet")
    writer.parquet(contacts.truth_events, "truth/contact_events.parquet")
    writer.parquet(contacts.truth_approaches, "truth/approaches.parquet")
    writer.parquet(
        conversations.conversations.join(
            conversation_members, on="conversation_id", how="left", maintain_order="left"
        ).select(
            "conversation_id",
            "member_id",
            "label",
            "kind",
            "phrasing_family",
            "first_grooming_message",
            "n_messages",
        ),
        "truth/conversations.parquet",
    )
    writer.parquet(
        conversations.messages.select("conversation_id", "message_id", "stage"),
        "truth/messages.parquet",
    )

    summary.counts = _counts(
        people,
        accounts,
        justice.records,
        children_known,
        contacts.events,
        contacts.truth_events,
        conversations.conversations,
    )
    summary.files = [*writer.files, "world.json"]
    (out / "world.json").write_text(json.dumps(summary.to_json(), indent=2, sort_keys=True) + "\n")
    return summary


def _place_conversations(
    conversations: pl.DataFrame, members: tuple[Member, ...], rng: np.random.Generator
) -> pl.DataFrame:
    weights = np.array([PLATFORM_WEIGHTS[m.size_band] for m in members if m.size_band is not None])
    pick = rng.choice(len(members), size=conversations.height, p=weights / weights.sum())
    return pl.DataFrame(
        {
            "conversation_id": conversations["conversation_id"],
            "member_id": np.array([m.member_id for m in members])[pick],
        }
    )


def _observed_bayes(
    behaviour: pl.DataFrame,
    shift: np.ndarray[Any, Any],
    cases: np.ndarray[Any, Any],
    controls: np.ndarray[Any, Any],
    child: np.ndarray[Any, Any],
    config: WorldConfig,
    most: int = 2_000,
) -> float:
    """The Bayes-optimal AUROC on the published features, on up to ``most`` accounts of each
    kind (the ceiling a study of this world can honestly be held to)."""
    if not shift.any() or not cases.any() or not controls.any():
        return 0.5
    rng = np.random.default_rng(config.seed)
    rows = [
        np.sort(rng.choice(idx, size=min(most, idx.size), replace=False))
        for idx in (np.flatnonzero(cases), np.flatnonzero(controls))
    ]
    both = np.concatenate(rows)
    score = observed_log_lr(
        behaviour[both], shift, child[both], config.selection_bias, draws=64, seed=config.seed
    )
    return rank_auroc(score[: rows[0].size], score[rows[0].size :])


def _bayes_figures(
    config: WorldConfig,
    people: pl.DataFrame,
    accounts: pl.DataFrame,
    residual: np.ndarray[Any, Any],
    behaviour: pl.DataFrame,
) -> dict[str, dict[str, float]]:
    """Per comparison: ``analytic`` (latent scale, exact), ``sample`` (latent scale, these
    accounts) and ``observed`` (the published features, where counts hide part of the latent
    score: what the best possible model of the data reaches)."""
    person = accounts["person_id"].to_numpy()
    child = people["is_child"].to_numpy()[person]
    offender = people["is_offender"].to_numpy()[person]
    vulnerable = people["is_vulnerable_child"].to_numpy()[person]
    off, vul = offender_shift(config.effect), vulnerable_shift(config.vulnerable_effect)
    adults, other_children = ~offender & ~child, child & ~vulnerable
    return {
        "offender_vs_general_population": {
            "analytic": round(bayes_auroc(off), 4),
            "sample": round(sample_bayes_auroc(residual, off, offender, adults), 4),
            "observed": round(_observed_bayes(behaviour, off, offender, adults, child, config), 4),
        },
        "vulnerable_vs_other_children": {
            "analytic": round(bayes_auroc(vul), 4),
            "sample": round(sample_bayes_auroc(residual, vul, vulnerable, other_children), 4),
            "observed": round(
                _observed_bayes(behaviour, vul, vulnerable, other_children, child, config), 4
            ),
        },
    }


def _counts(
    people: pl.DataFrame,
    accounts: pl.DataFrame,
    justice: dict[str, pl.DataFrame],
    children_known: pl.DataFrame,
    events: dict[str, pl.DataFrame],
    truth_events: pl.DataFrame,
    conversations: pl.DataFrame,
) -> dict[str, Any]:
    sums = people.select(
        pl.len().alias("people"),
        pl.col("is_child").sum().alias("children"),
        pl.col("is_offender").sum().alias("offenders"),
        pl.col("known_offender").sum().alias("known_offenders"),
        pl.col("is_vulnerable_child").sum().alias("vulnerable_children"),
    ).row(0, named=True)
    per_member = accounts.group_by("member_id").len().sort("member_id")
    known = (
        people.filter(pl.col("is_offender"))
        .group_by("deprivation_quintile")
        .agg(pl.col("known_offender").mean())
        .sort("deprivation_quintile")
    )
    return {
        **{k: int(v) for k, v in sums.items()},
        "accounts": dict(
            zip(per_member["member_id"].to_list(), per_member["len"].to_list(), strict=True)
        ),
        "contact_events": {mid: frame.height for mid, frame in sorted(events.items())},
        "planted_approach_events": int(
            truth_events.filter(~pl.col("pattern").is_in(["none", "benign_lookalike"])).height
        ),
        "benign_lookalike_events": int((truth_events["pattern"] == "benign_lookalike").sum()),
        "justice_records": {mid: frame.height for mid, frame in sorted(justice.items())},
        "children_known_to_services": children_known.height,
        "offenders_known_share_by_deprivation_quintile": {
            str(q): round(float(v), 3)
            for q, v in zip(known["deprivation_quintile"], known["known_offender"], strict=True)
        },
        "conversations": conversations.height,
        "grooming_conversations": int((conversations["label"] == "grooming").sum()),
    }
