"""The flag store: who is flagged among senders, who is a child among recipients.

A flags folder holds ``flags.json`` (the member it belongs to, where the flags came from)
and Parquet tables: ``sender_flags`` (registry matches and released-model scores, each with
reasons), ``recipient_markers`` (accounts known to be minors, by age band, or in the
vulnerable-child cohort) and, optionally, ``conversation_risk`` (scores from
``safehold.conversation``). ``FlagStore.reload_if_changed`` picks up a rewritten folder
without a restart; a folder that fails its checks is refused and the flags in force stay."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from safehold.klaxon import kernels
from safehold.klaxon.events import AGE_BANDS, MINOR_BANDS, band_index

FORMAT = "safehold.klaxon.flags"
FORMAT_VERSION = 1
MANIFEST = "flags.json"
SENDER_FLAGS = "sender_flags.parquet"
RECIPIENT_MARKERS = "recipient_markers.parquet"
CONVERSATION_RISK = "conversation_risk.parquet"
FLAG_SOURCES = ("registry", "model")
MODEL_BANDS = ("low", "medium", "high")

SENDER_FLAG_SCHEMA: dict[str, pl.DataType] = {
    "account": pl.Utf8(),
    "source": pl.Utf8(),
    "band": pl.Utf8(),
    "score": pl.Float64(),
    "reasons": pl.List(pl.Utf8()),
}
RECIPIENT_MARKER_SCHEMA: dict[str, pl.DataType] = {
    "account": pl.Utf8(),
    "age_band": pl.Utf8(),
    "vulnerable": pl.Boolean(),
}
CONVERSATION_RISK_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.Utf8(),
    "risk": pl.Float64(),
    "stages": pl.List(pl.Utf8()),
}


ACCOUNT_SEED = 0  # the seed of the 64-bit account hashes the engine joins and sorts by
CHECK_SEED = 1  # the seed of the second hash that catches a collision of the first


@dataclass(frozen=True)
class KeyedTable:
    """A flags table for look-ups by an account's hash: its rows, and a last row of nulls
    for the accounts it does not hold, and the index of the hashes."""

    rows: pl.DataFrame  # without the key column; the last row all nulls
    index: kernels.KeyIndex

    def look_up(self, keys: pl.Series) -> pl.DataFrame:
        """The row of each key (a left join, by an index made once per flags load)."""
        found = kernels.rows_of(self.index, keys.to_numpy(), missing=self.rows.height - 1)
        return self.rows[found]


def _keyed(table: pl.DataFrame | None, key: str) -> KeyedTable | None:
    if table is None:
        return None
    rest = table.drop(key)
    nulls = pl.DataFrame([pl.Series(c, [None], dtype=t) for c, t in rest.schema.items()])
    return KeyedTable(pl.concat([rest, nulls]).rechunk(), kernels.key_index(table[key].to_numpy()))


def _by_hash(frame: pl.DataFrame, account: str, key: str, check: str) -> pl.DataFrame | None:
    """``frame`` keyed by a 64-bit hash of ``account`` (``key``) with a second hash
    (``check``), or None when two of its accounts share the first hash."""
    keyed = frame.select(
        pl.col(account).hash(seed=ACCOUNT_SEED).alias(key),
        pl.col(account).hash(seed=CHECK_SEED).alias(check),
        pl.all().exclude(account),
    )
    return keyed if keyed[key].n_unique() == keyed.height else None


MODEL_FLAGS: dict[str, pl.DataType] = {
    "account": pl.Utf8(),
    "band": pl.Utf8(),
    "score": pl.Float64(),
    "_reasons": pl.List(pl.Utf8()),
}


class FlagError(ValueError):
    """A flags folder that cannot be used; the message names the file, the row and the fix."""


@dataclass(frozen=True)
class FlagSet:
    """One consistent load of a flags folder, shaped for the engine's joins."""

    member_id: str
    manifest: dict[str, Any]
    senders: pl.DataFrame  # sender, registry (bool), model_band, model_score
    recipients: pl.DataFrame  # recipient, marker_band, vulnerable
    child_accounts: pl.Series  # recipients known to be children (minor band or vulnerable)
    conversation_risk: pl.DataFrame | None  # conversation_id, risk
    model_flags: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MODEL_FLAGS))
    """account, band, score, _reasons of the senders a released model flagged (for the
    alert's model context, klaxon.model_flags; the engine does not read it)."""

    @cached_property
    def child_hashes(self) -> pl.Series:
        """64-bit hashes of ``child_accounts`` (made once per load, used per batch)."""
        return self.child_accounts.hash(seed=ACCOUNT_SEED)

    @cached_property
    def child_index(self) -> kernels.KeyIndex:
        """``child_hashes`` indexed, for the candidate filter of small batches."""
        return kernels.key_index(self.child_hashes.to_numpy())

    @cached_property
    def senders_by_hash(self) -> pl.DataFrame | None:
        """``senders`` keyed by ``_s`` (the account's hash) with ``_flag_check``, for joins
        on integers; None if two flagged accounts share a hash (then joins go by text)."""
        return _by_hash(self.senders.drop("model_score"), "sender", "_s", "_flag_check")

    @cached_property
    def recipients_by_hash(self) -> pl.DataFrame | None:
        """``recipients`` keyed by ``_r`` with ``_marker_check``, as ``senders_by_hash``, the
        marker's band as its place in ``AGE_BANDS`` (``_marker_index``), and ``_child``:
        whether the markers make the account a child (``child_accounts``)."""
        marked = self.recipients.select(
            "recipient",
            band_index("marker_band").alias("_marker_index"),  # made once, not per batch
            "vulnerable",
            pl.col("recipient").is_in(self.child_accounts.implode()).alias("_child"),
        )
        return _by_hash(marked, "recipient", "_r", "_marker_check")

    @cached_property
    def senders_keyed(self) -> KeyedTable | None:
        """``senders_by_hash`` for look-ups by ``_s`` (None where it is None)."""
        return _keyed(self.senders_by_hash, "_s")

    @cached_property
    def recipients_keyed(self) -> KeyedTable | None:
        """``recipients_by_hash`` for look-ups by ``_r`` (None where it is None)."""
        return _keyed(self.recipients_by_hash, "_r")

    @property
    def counts(self) -> dict[str, int]:
        return {
            "registry_matches": int(self.senders["registry"].sum()),
            "model_scores": int(self.senders["model_band"].is_not_null().sum()),
            "minor_accounts": int(self.recipients["marker_band"].is_in(MINOR_BANDS).sum()),
            "vulnerable_accounts": int(self.recipients["vulnerable"].sum()),
            "conversations": 0 if self.conversation_risk is None else self.conversation_risk.height,
        }


def _read_table(path: Path, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FlagError(f"{path} is not a readable Parquet file ({type(exc).__name__})") from None
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise FlagError(f"{path}: missing column(s) {', '.join(missing)}; expected {list(schema)}")
    try:
        return frame.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())
    except pl.exceptions.PolarsError:
        wrong = {c: str(frame.schema[c]) for c in schema}
        raise FlagError(
            f"{path}: column types {wrong} do not fit {dict((c, str(t)) for c, t in schema.items())}"
        ) from None


def _refuse(path: Path, frame: pl.DataFrame, bad: pl.Expr, problem: str) -> None:
    if frame.select(bad.any()).item():
        row = frame.with_row_index("_row").filter(bad).head(1).row(0, named=True)
        raise FlagError(f"{path}: row {row['_row']} ({row.get('account', '')}): {problem}")


def load_flags(folder: Path) -> FlagSet:
    """Read and check a flags folder whole; raise ``FlagError`` on the first problem."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise FlagError(
            f"{manifest_path} not found: make a flags folder with `safehold klaxon flags`"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise FlagError(f"{manifest_path} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FlagError(f"{manifest_path} is not a Safehold klaxon flags manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise FlagError(
            f"{manifest_path} has version {manifest.get('version')!r}; this Safehold reads "
            f"version {FORMAT_VERSION}: rebuild the folder with `safehold klaxon flags`"
        )
    member_id = manifest.get("member_id")
    if not isinstance(member_id, str) or not member_id:
        raise FlagError(f"{manifest_path}: member_id is missing")

    senders_path = folder / SENDER_FLAGS
    senders = _read_table(senders_path, SENDER_FLAG_SCHEMA)
    _refuse(senders_path, senders, pl.col("account").is_null(), "account is empty")
    _refuse(
        senders_path,
        senders,
        ~pl.col("source").is_in(FLAG_SOURCES) | pl.col("source").is_null(),
        f"source must be one of {', '.join(FLAG_SOURCES)}",
    )
    is_model = pl.col("source") == "model"
    _refuse(
        senders_path,
        senders,
        is_model & (pl.col("band").is_null() | ~pl.col("band").is_in(MODEL_BANDS)),
        f"a model score needs a band: one of {', '.join(MODEL_BANDS)}",
    )
    _refuse(
        senders_path,
        senders,
        pl.col("reasons").is_null() | (pl.col("reasons").list.len() == 0),
        "every flag needs at least one reason",
    )
    markers_path = folder / RECIPIENT_MARKERS
    markers = _read_table(markers_path, RECIPIENT_MARKER_SCHEMA)
    _refuse(markers_path, markers, pl.col("account").is_null(), "account is empty")
    _refuse(
        markers_path,
        markers,
        pl.col("age_band").is_not_null() & ~pl.col("age_band").is_in(AGE_BANDS),
        f"age_band must be empty or one of {', '.join(AGE_BANDS)}",
    )
    for path, frame in ((senders_path, senders), (markers_path, markers)):
        key = ["account", "source"] if frame is senders else ["account"]
        _refuse(path, frame, pl.struct(key).is_duplicated(), f"{'/'.join(key)} appears twice")

    risk: pl.DataFrame | None = None
    risk_path = folder / CONVERSATION_RISK
    if risk_path.exists():
        risk = _read_table(risk_path, CONVERSATION_RISK_SCHEMA)
        _refuse(
            risk_path,
            risk,
            pl.col("risk").is_null() | (pl.col("risk") < 0) | (pl.col("risk") > 1),
            "risk must be between 0 and 1",
        )
        risk = risk.select("conversation_id", "risk").unique("conversation_id", keep="first")

    by_sender = senders.group_by("account").agg(
        (pl.col("source") == "registry").any().alias("registry"),
        pl.col("band").filter(is_model).first().alias("model_band"),
        pl.col("score").filter(is_model).first().alias("model_score"),
    )
    recipients = markers.select(
        pl.col("account").alias("recipient"),
        pl.col("age_band").alias("marker_band"),
        pl.col("vulnerable").fill_null(False),
    )
    children = recipients.filter(
        pl.col("marker_band").is_in(MINOR_BANDS) | pl.col("vulnerable")
    ).get_column("recipient")
    return FlagSet(
        member_id=member_id,
        manifest=manifest,
        senders=by_sender.rename({"account": "sender"}),
        recipients=recipients,
        child_accounts=children,
        conversation_risk=risk,
        model_flags=senders.filter(is_model).select(
            "account", "band", "score", pl.col("reasons").alias("_reasons")
        ),
    )


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    found = []
    for name in (MANIFEST, SENDER_FLAGS, RECIPIENT_MARKERS, CONVERSATION_RISK):
        try:
            stat = (folder / name).stat()
        except FileNotFoundError:
            continue
        found.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class FlagStore:
    """The flags in force for one member, reloadable while screening runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._signature = _signature(folder)
        self._current = load_flags(folder)
        self.reloads = 0

    @property
    def current(self) -> FlagSet:
        return self._current

    def reload_if_changed(self) -> bool:
        """Load the folder again if any of its files changed. On a bad folder raise
        ``FlagError`` and keep the flags in force (they are still ``current``)."""
        signature = _signature(self.folder)
        if signature == self._signature:
            return False
        fresh = load_flags(self.folder)
        self._current, self._signature = fresh, signature
        self.reloads += 1
        return True


def write_flags(
    folder: Path,
    *,
    member_id: str,
    senders: pl.DataFrame,
    markers: pl.DataFrame,
    conversation_risk: pl.DataFrame | None = None,
    provenance: dict[str, Any] | None = None,
    model_version: str | None = None,
) -> None:
    """Write a flags folder: each table to a staging file swapped into place, the manifest
    last, so a reader sees either the old folder or the new one per file."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = [
        (SENDER_FLAGS, senders.select(pl.col(c).cast(t) for c, t in SENDER_FLAG_SCHEMA.items())),
        (
            RECIPIENT_MARKERS,
            markers.select(pl.col(c).cast(t) for c, t in RECIPIENT_MARKER_SCHEMA.items()),
        ),
    ]
    if conversation_risk is not None:
        tables.append(
            (
                CONVERSATION_RISK,
                conversation_risk.select(
                    pl.col(c).cast(t) for c, t in CONVERSATION_RISK_SCHEMA.items()
                ),
            )
        )
    for name, frame in tables:
        fd, staging = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        os.close(fd)
        try:
            frame.write_parquet(staging)
            os.replace(staging, folder / name)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "member_id": member_id,
        "provenance": provenance or {},
    }
    if model_version is not None:
        manifest["model_version"] = model_version  # of the released model behind the scores
    staging_manifest = folder / f".{MANIFEST}.tmp"
    staging_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(staging_manifest, folder / MANIFEST)
