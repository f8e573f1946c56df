"""The enclave's inputs, read the same way from either kind of folder a study may be given.

A folder written by ``safehold hub export enclave`` (``enclave.json`` and
``exchange/<source token>/*.parquet``) is read as it is. A folder written by ``safehold synth
world`` holds each member's raw tables, so every member the study needs is first prepared
exactly as the member toolkit prepares it (``identity.prepare``), under a study key derived
from the world's seed, into a scratch folder that is deleted afterwards. Either way the study
then sees only keyed pseudonyms and CLKs. The world's truth tables are read only to say which
label and which account belong to which person, for evaluating the linkage, never for
making it.

Platforms get tokens that name only their size band (source blinding); label sources get
opaque tokens."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from safehold.exchange import IdentifierKind
from safehold.identity.keys import CoalitionKey
from safehold.identity.prepare import PrepareError, prepare_member
from safehold.identity.pseudonyms import Pseudonymiser
from safehold.research.errors import StudyError

_STUDY_KEY_INFO = b"safehold/research/synthetic-world-study-key\0"
# The raw tables each kind of member needs for a study; the rest is not prepared.
_NEEDED = {
    "platform": ("accounts", "behaviour"),
    "police": ("justice_records",),
    "court": ("justice_records",),
    "probation": ("justice_records",),
    "local_authority": ("children_known",),
}
_TRUTH_LABELS = ("truth/justice_records.parquet", "truth/children_known.parquet")


@dataclass(frozen=True)
class LinkageTruth:
    """Who every label and every account really is (synthetic worlds only)."""

    labels: pl.DataFrame  # label_id, person_id
    accounts: pl.DataFrame  # account, person_id


@dataclass(frozen=True)
class EnclaveData:
    """``behaviour``: one row per platform account and period, ``account`` (pseudonym),
    ``platform`` (blinded token), ``size_band`` and the behaviour columns. ``accounts``:
    ``account``, ``platform``, ``email_key``, ``phone_key``, ``clk`` (base64). ``labels``:
    ``label_id``, ``source``, ``cohort``, ``email_key``, ``phone_key``, ``clk``."""

    behaviour: pl.DataFrame
    accounts: pl.DataFrame
    labels: pl.DataFrame
    truth: LinkageTruth | None
    origin: str


def blind_tokens(bands: dict[str, str]) -> dict[str, str]:
    """A token per platform that names only its size band, ordered by a hash of the id."""
    order = sorted(bands, key=lambda m: hashlib.sha256(m.encode()).hexdigest())
    seen: dict[str, int] = {}
    tokens: dict[str, str] = {}
    for member_id in order:
        band = bands[member_id]
        seen[band] = seen.get(band, 0) + 1
        tokens[member_id] = f"{band}-{seen[band]}"
    return tokens


def load_enclave(folder: Path) -> EnclaveData:
    """Read a synthetic world or an enclave export; refuses anything else, naming the fix."""
    if not folder.is_dir():
        raise StudyError(
            f"--world {folder} is not a folder; give a folder written by `safehold synth world` "
            "or by `safehold hub export enclave`"
        )
    if (folder / "enclave.json").exists():
        return _load_export(folder)
    if (folder / "world.json").exists():
        return _load_world(folder)
    raise StudyError(
        f"{folder} holds neither world.json nor enclave.json; give a folder written by "
        "`safehold synth world` or by `safehold hub export enclave`"
    )


# --- reading exchange-format Parquet ------------------------------------------------------


def _identifier(kind: IdentifierKind) -> pl.Expr:
    """The first identifier of one kind in an exchange ``identifiers`` list, as
    ``<key version>:<pseudonym>`` (pseudonyms under different key versions never match)."""
    element = pl.element()
    first = (
        pl.col("identifiers")
        .list.eval(element.filter(element.struct.field("kind") == kind.value))
        .list.first()
    )
    return pl.concat_str(
        first.struct.field("key_version").cast(pl.String),
        pl.lit(":"),
        first.struct.field("pseudonym"),
    ).alias(f"{kind.value}_key")


def _subject() -> pl.Expr:
    return pl.col("subject").struct.field("pseudonym").alias("account")


def _read_source(
    folder: Path, kind: str, token: str, size_band: str | None
) -> tuple[pl.DataFrame | None, pl.DataFrame | None, pl.DataFrame | None]:
    """(behaviour, accounts, labels) of one source folder, each None when absent."""
    behaviour = accounts = labels = None
    if kind == "platform":
        if (folder / "behaviour.parquet").exists():
            raw = pl.read_parquet(folder / "behaviour.parquet")
            behaviour = raw.select(
                _subject(),
                pl.lit(token).alias("platform"),
                pl.lit(size_band).alias("size_band"),
                pl.exclude("subject", "record_type"),
            )
        if (folder / "account_keys.parquet").exists():
            accounts = pl.read_parquet(folder / "account_keys.parquet").select(
                _subject(),
                pl.lit(token).alias("platform"),
                _identifier(IdentifierKind.EMAIL),
                _identifier(IdentifierKind.PHONE),
                pl.col("clk"),
            )
    if (folder / "cohort_labels.parquet").exists():
        labels = pl.read_parquet(folder / "cohort_labels.parquet").select(
            pl.col("label_id"),
            pl.lit(token).alias("source"),
            pl.col("cohort"),
            _identifier(IdentifierKind.EMAIL),
            _identifier(IdentifierKind.PHONE),
            pl.col("clk"),
        )
    return behaviour, accounts, labels


def _combine(
    parts: list[tuple[pl.DataFrame | None, pl.DataFrame | None, pl.DataFrame | None]],
    folder: Path,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    behaviour = [p[0] for p in parts if p[0] is not None]
    accounts = [p[1] for p in parts if p[1] is not None]
    labels = [p[2] for p in parts if p[2] is not None]
    if not behaviour or not accounts:
        raise StudyError(
            f"{folder} holds no platform's behaviour and account keys; a study needs both"
        )
    empty_labels = pl.DataFrame(
        schema={
            "label_id": pl.String,
            "source": pl.String,
            "cohort": pl.String,
            "email_key": pl.String,
            "phone_key": pl.String,
            "clk": pl.String,
        }
    )
    return (
        pl.concat(behaviour, how="diagonal_relaxed"),
        pl.concat(accounts, how="vertical_relaxed"),
        pl.concat(labels, how="vertical_relaxed") if labels else empty_labels,
    )


# --- an enclave export ----------------------------------------------------------------


def _load_export(folder: Path) -> EnclaveData:
    try:
        manifest = json.loads((folder / "enclave.json").read_text())
        sources = [(str(s["token"]), str(s["member_kind"]), s.get("size_band")) for s in manifest["sources"]]  # fmt: skip
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise StudyError(
            f"{folder / 'enclave.json'} is not an enclave export manifest ({exc}); "
            "export again with `safehold hub export enclave`"
        ) from None
    bands = {t: str(b) for t, k, b in sources if k == "platform" and b}
    tokens = blind_tokens(bands)
    parts = []
    for token, kind, band in sources:
        source_dir = folder / "exchange" / token
        if not source_dir.is_dir():
            raise StudyError(
                f"{source_dir} is missing although enclave.json lists it; the export is "
                "incomplete, export again"
            )
        parts.append(_read_source(source_dir, kind, tokens.get(token, token), band))
    behaviour, accounts, labels = _combine(parts, folder)
    return EnclaveData(
        behaviour, accounts, labels, None, f"enclave export {manifest.get('export_id', '?')}"
    )


# --- a synthetic world ------------------------------------------------------------------


def study_key(world: Path) -> CoalitionKey:
    """The key a synthetic world's members are prepared under for a study: derived from
    the world's own description, so the same world always gives the same pseudonyms."""
    secret = hashlib.sha256(_STUDY_KEY_INFO + (world / "world.json").read_bytes()).digest()
    return CoalitionKey(version=1, secret=secret)


def _members(world: Path) -> list[tuple[Path, dict[str, object]]]:
    members = []
    for member_file in sorted((world / "members").glob("*/member.json")):
        members.append((member_file.parent, json.loads(member_file.read_text())))
    if not any(m.get("kind") == "platform" for _d, m in members):
        raise StudyError(
            f"{world / 'members'} holds no platform member (member.json with kind platform); "
            "regenerate the world with `safehold synth world`"
        )
    return members


def _prepare(member_dir: Path, kind: str, key: CoalitionKey, scratch: Path) -> Path:
    """Prepare only the tables a study needs, as the member toolkit would."""
    staged = scratch / "raw" / member_dir.name
    staged.mkdir(parents=True)
    (staged / "member.json").symlink_to((member_dir / "member.json").resolve())
    for name in _NEEDED.get(kind, ()):
        source = member_dir / f"{name}.parquet"
        if source.exists():
            (staged / f"{name}.parquet").symlink_to(source.resolve())
    out = scratch / "prepared" / member_dir.name
    try:
        prepare_member(staged, key, out)
    except PrepareError as exc:
        raise StudyError(f"preparing {member_dir} failed: {exc}") from None
    return out


def _truth(world: Path, key: CoalitionKey) -> LinkageTruth:
    pseudonymiser = Pseudonymiser(key)
    accounts = pl.read_parquet(world / "truth" / "accounts.parquet")
    keyed = []
    for (member_id,), part in accounts.group_by("member_id", maintain_order=True):
        pseudonyms = pseudonymiser.pseudonymise_many(
            IdentifierKind.ACCOUNT, part["account_id"].to_list(), platform=str(member_id)
        )
        keyed.append(
            part.select("person_id").with_columns(pl.Series("account", pseudonyms, pl.String))
        )
    labels = [
        pl.read_parquet(world / p).select(pl.col("record_id").alias("label_id"), "person_id")
        for p in _TRUTH_LABELS
        if (world / p).exists()
    ]
    return LinkageTruth(
        labels=pl.concat(labels), accounts=pl.concat(keyed).select("account", "person_id")
    )


def _load_world(world: Path) -> EnclaveData:
    members = _members(world)
    key = study_key(world)
    bands = {
        str(m["member_id"]): str(m["size_band"])
        for _d, m in members
        if m.get("kind") == "platform" and m.get("size_band")
    }
    tokens = blind_tokens(bands)
    parts = []
    with tempfile.TemporaryDirectory(prefix="safehold-study-") as scratch:
        for member_dir, member in members:
            kind, member_id = str(member.get("kind")), str(member["member_id"])
            if kind not in _NEEDED:
                continue
            prepared = _prepare(member_dir, kind, key, Path(scratch))
            token = tokens.get(member_id) or hashlib.sha256(member_id.encode()).hexdigest()[:12]
            parts.append(_read_source(prepared, kind, token, bands.get(member_id)))
    behaviour, accounts, labels = _combine(parts, world)
    return EnclaveData(behaviour, accounts, labels, _truth(world, key), "synthetic world")
