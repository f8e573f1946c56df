"""Member-side preparation: turn a member's raw tables into exchange-format Parquet in which
every identifier is a keyed pseudonym or a CLK, before anything leaves the member.

The raw-table layout is the member toolkit's input contract (the synthetic world writes it):
``member.json`` plus, for platforms, ``accounts``, ``behaviour``, ``contact_events``,
``conversations`` and ``messages``; for justice agencies ``justice_records``; for local
authorities ``children_known``. Output rows validate as exchange records (they are checked
before anything is written)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import TypeAdapter, ValidationError

from safehold.exchange import (
    AccountKeys,
    BehaviourRecord,
    CohortLabel,
    ContactEvent,
    Conversation,
    IdentifierKind,
    Member,
    MemberKind,
    RegistryEntry,
    StrictModel,
)
from safehold.identity.clk_encoding import ClkEncoder
from safehold.identity.errors import IdentifierError
from safehold.identity.keys import CoalitionKey
from safehold.identity.pseudonyms import Pseudonymiser

_RAW_IDENTIFIER_COLUMNS = ("account_id", "username", "email", "phone")
_SUBJECT_REF = pl.Struct({"kind": pl.Utf8, "pseudonym": pl.Utf8, "key_version": pl.Int64})
_Output = tuple[str, pl.DataFrame, type[StrictModel]]


class PrepareError(ValueError):
    """A member folder that cannot be prepared: names the file and the fix."""


@dataclass
class PreparedMember:
    member: Member
    out: Path
    files: dict[str, int] = field(default_factory=dict)
    rejected_identifiers: int = 0


class _Keys:
    """Pseudonyms and CLKs under one coalition key, counting what could not be normalised."""

    def __init__(self, key: CoalitionKey, region: str) -> None:
        self.version = key.version
        self.pseudonymiser = Pseudonymiser(key, phone_region=region)
        self.clk = ClkEncoder.from_coalition_key(key)
        self.rejected = 0
        self._accounts: dict[str, str | None] = {}

    def hashes(
        self, kind: IdentifierKind, values: pl.Series, platform: str | None = None
    ) -> pl.Series:
        raw = values.to_list()
        out = self.pseudonymiser.pseudonymise_many(kind, raw, platform=platform, on_invalid="none")
        self.rejected += sum(
            1 for r, o in zip(raw, out, strict=True) if r is not None and o is None
        )
        return pl.Series(out, dtype=pl.Utf8)

    def accounts(self, values: pl.Series, platform: str) -> pl.Series:
        """Account pseudonyms; accounts, behaviour and both ends of every contact event name
        the same accounts, so each is normalised and hashed once per member."""
        new = [v for v in values.drop_nulls().unique().to_list() if v not in self._accounts]
        if new:
            hashed = self.pseudonymiser.pseudonymise_many(
                IdentifierKind.ACCOUNT, new, platform=platform, on_invalid="none"
            )
            self.rejected += sum(1 for h in hashed if h is None)
            self._accounts.update(zip(new, hashed, strict=True))
        return values.replace_strict(self._accounts, default=None, return_dtype=pl.Utf8)

    def ref(self, kind: IdentifierKind, column: str) -> pl.Expr:
        """A SubjectRef struct from a column of hex pseudonyms (null stays null)."""
        return (
            pl.when(pl.col(column).is_not_null())
            .then(
                pl.struct(
                    kind=pl.lit(kind.value),
                    pseudonym=pl.col(column),
                    key_version=pl.lit(self.version, dtype=pl.Int64),
                )
            )
            .otherwise(None)
        )

    def refs(self, pairs: Iterable[tuple[IdentifierKind, str]]) -> pl.Expr:
        """A list of SubjectRef structs from several pseudonym columns, nulls dropped."""
        return pl.concat_list([self.ref(kind, column) for kind, column in pairs]).list.drop_nulls()

    def clks(self, frame: pl.DataFrame) -> pl.Series:
        values: list[str | None] = []
        for given, family, dob in frame.select("given_name", "family_name", "dob").iter_rows():
            if given is None and family is None and dob is None:
                values.append(None)
                continue
            try:
                values.append(self.clk.encode_person(given, family, dob))
            except IdentifierError:
                self.rejected += 1
                values.append(None)
        return pl.Series(values, dtype=pl.Utf8)


def prepare_member(
    member_dir: Path, key: CoalitionKey, out: Path, *, default_region: str = "GB"
) -> PreparedMember:
    """Prepare one member's folder into ``out``; returns what was written."""
    member = _read_member(member_dir)
    keys = _Keys(key, default_region)
    result = PreparedMember(member=member, out=out)
    writers: list[Callable[[], list[_Output]]]
    if member.kind is MemberKind.PLATFORM:
        writers = [
            lambda: _account_keys(member_dir, member, keys),
            lambda: _behaviour(member_dir, member, keys),
            lambda: _contact_events(member_dir, member, keys),
            lambda: _conversations(member_dir),
        ]
    elif member.kind.is_justice:
        writers = [lambda: _justice(member_dir, member, keys)]
    elif member.kind is MemberKind.LOCAL_AUTHORITY:
        writers = [lambda: _children_labels(member_dir, keys)]
    else:
        writers = []
    produced = [item for writer in writers for item in writer()]
    for name, frame, model in produced:
        _validate(frame, model, f"{member.member_id}/{name}")
    # Whole or nothing: write beside the destination, then swap it into place.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=_parent(out)))
    try:
        for name, frame, _model in produced:
            frame.write_parquet(staging / f"{name}.parquet", compression="zstd", statistics=True)
            result.files[name] = frame.height
        member_json = json.dumps(member.model_dump(mode="json"), indent=2, sort_keys=True)
        (staging / "member.json").write_text(member_json + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.rejected_identifiers = keys.rejected
    return result


def _parent(out: Path) -> Path:
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _read_member(member_dir: Path) -> Member:
    path = member_dir / "member.json"
    try:
        return Member.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise PrepareError(f"{path} is missing; a member folder starts with member.json") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PrepareError(f"{path}: field '{where}': {first['msg']}") from None


def _read(member_dir: Path, name: str, required: Iterable[str]) -> pl.DataFrame | None:
    path = member_dir / f"{name}.parquet"
    if not path.exists():
        return None
    frame = pl.read_parquet(path)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PrepareError(
            f"{path} lacks column(s) {', '.join(missing)}; see the member toolkit's raw-table layout"
        )
    return frame


def _account_keys(member_dir: Path, member: Member, keys: _Keys) -> list[_Output]:
    accounts = _read(
        member_dir,
        "accounts",
        ["account_id", "username", "email", "phone", "given_name", "family_name", "dob"],
    )
    if accounts is None:
        return []
    hashed = pl.DataFrame(
        {
            "account": keys.accounts(accounts["account_id"], member.member_id),
            "email": keys.hashes(IdentifierKind.EMAIL, accounts["email"]),
            "phone": keys.hashes(IdentifierKind.PHONE, accounts["phone"]),
            "username": keys.hashes(
                IdentifierKind.USERNAME, accounts["username"], platform=member.member_id
            ),
            "clk": keys.clks(accounts),
        }
    )
    frame = hashed.select(
        record_type=pl.lit("account_keys"),
        subject=keys.ref(IdentifierKind.ACCOUNT, "account"),
        identifiers=keys.refs(
            [
                (IdentifierKind.EMAIL, "email"),
                (IdentifierKind.PHONE, "phone"),
                (IdentifierKind.USERNAME, "username"),
            ]
        ),
        clk=pl.col("clk"),
    )
    return [("account_keys", frame, AccountKeys)]


def _behaviour(member_dir: Path, member: Member, keys: _Keys) -> list[_Output]:
    behaviour = _read(
        member_dir, "behaviour", ["account_id", "period_start", "period_days", "age_band", "sex"]
    )
    if behaviour is None:
        return []
    frame = behaviour.with_columns(account=keys.accounts(behaviour["account_id"], member.member_id))
    frame = frame.select(
        record_type=pl.lit("behaviour"),
        subject=keys.ref(IdentifierKind.ACCOUNT, "account"),
        **{c: pl.col(c) for c in behaviour.columns if c != "account_id"},
    )
    return [("behaviour", frame, BehaviourRecord)]


def _contact_events(member_dir: Path, member: Member, keys: _Keys) -> list[_Output]:
    events = _read(
        member_dir,
        "contact_events",
        [
            "event_id",
            "sender_account",
            "recipient_account",
            "occurred_at",
            "channel",
            "first_contact",
        ],
    )
    if events is None:
        return []
    frame = events.with_columns(
        sender=keys.accounts(events["sender_account"], member.member_id),
        recipient=keys.accounts(events["recipient_account"], member.member_id),
    )
    optional = [c for c in ("recipient_age_band", "sender_age_band") if c in events.columns]
    frame = frame.select(
        record_type=pl.lit("contact_event"),
        event_id=pl.col("event_id"),
        sender=keys.ref(IdentifierKind.ACCOUNT, "sender"),
        recipient=keys.ref(IdentifierKind.ACCOUNT, "recipient"),
        occurred_at=pl.col("occurred_at"),
        channel=pl.col("channel"),
        first_contact=pl.col("first_contact"),
        **{c: pl.col(c) for c in optional},
    )
    return [("contact_events", frame, ContactEvent)]


def _conversations(member_dir: Path) -> list[_Output]:
    conversations = _read(
        member_dir,
        "conversations",
        ["conversation_id", "channel", "participant_ids", "participant_age_bands"],
    )
    messages = _read(
        member_dir, "messages", ["conversation_id", "message_id", "sender_id", "sent_at", "text"]
    )
    if conversations is None or messages is None:
        return []
    grouped = messages.group_by("conversation_id", maintain_order=True).agg(
        messages=pl.struct("message_id", "sender_id", "sent_at", "text")
    )
    participants = (
        conversations.select("conversation_id", "participant_ids", "participant_age_bands")
        .explode("participant_ids", "participant_age_bands")
        .group_by("conversation_id", maintain_order=True)
        .agg(
            participants=pl.struct(
                participant_id=pl.col("participant_ids"),
                subject=pl.lit(None, dtype=_SUBJECT_REF),
                age_band=pl.col("participant_age_bands"),
            )
        )
    )
    frame = (
        conversations.select("conversation_id", "channel")
        .join(participants, on="conversation_id", how="left", maintain_order="left")
        .join(grouped, on="conversation_id", how="inner", maintain_order="left")
        .select(
            pl.lit("conversation").alias("record_type"),
            "conversation_id",
            "channel",
            "participants",
            "messages",
        )
    )
    return [("conversations", frame, Conversation)]


def _with_identity_keys(records: pl.DataFrame, keys: _Keys) -> pl.DataFrame:
    """The records plus ``email_key``, ``phone_key`` (pseudonyms) and ``clk``."""
    return records.with_columns(
        email_key=keys.hashes(IdentifierKind.EMAIL, records["email"]),
        phone_key=keys.hashes(IdentifierKind.PHONE, records["phone"]),
        clk=keys.clks(records),
    )


def _identifier_refs(keys: _Keys) -> pl.Expr:
    return keys.refs([(IdentifierKind.EMAIL, "email_key"), (IdentifierKind.PHONE, "phone_key")])


_JUSTICE_COLUMNS = [
    "record_id",
    "given_name",
    "family_name",
    "dob",
    "email",
    "phone",
    "typology",
    "convicted_month",
    "registered_from",
    "registered_until",
    "status",
]


def _justice(member_dir: Path, member: Member, keys: _Keys) -> list[_Output]:
    """Registry entries and cohort labels from one read of the records and one set of keys."""
    records = _read(member_dir, "justice_records", _JUSTICE_COLUMNS)
    if records is None:
        return []
    keyed = _with_identity_keys(records, keys)
    entries = keyed.select(
        record_type=pl.lit("registry_entry"),
        entry_id=pl.col("record_id"),
        subjects=_identifier_refs(keys),
        clk=pl.col("clk"),
        typology=pl.col("typology"),
        convicted_month=pl.col("convicted_month"),
        registered_from=pl.col("registered_from"),
        registered_until=pl.col("registered_until"),
        status=pl.col("status"),
    )
    labels = _labels(
        keyed, keys, "convicted_offender", member.kind.value, pl.col("convicted_month")
    )
    return [("registry_entries", entries, RegistryEntry), ("cohort_labels", labels, CohortLabel)]


def _children_labels(member_dir: Path, keys: _Keys) -> list[_Output]:
    records = _read(
        member_dir,
        "children_known",
        ["record_id", "given_name", "family_name", "dob", "email", "phone", "known_since"],
    )
    if records is None:
        return []
    keyed = _with_identity_keys(records, keys)
    labels = _labels(keyed, keys, "vulnerable_child", "local_authority", pl.col("known_since"))
    return [("cohort_labels", labels, CohortLabel)]


def _labels(
    keyed: pl.DataFrame, keys: _Keys, cohort: str, source_kind: str, month: pl.Expr
) -> pl.DataFrame:
    return keyed.select(
        record_type=pl.lit("cohort_label"),
        label_id=pl.col("record_id"),
        subject=pl.lit(None, dtype=_SUBJECT_REF),
        identifiers=_identifier_refs(keys),
        clk=pl.col("clk"),
        cohort=pl.lit(cohort),
        source_kind=pl.lit(source_kind),
        labelled_month=month,
    )


def _validate(
    frame: pl.DataFrame, model: type[StrictModel], where: str, chunk: int = 20_000
) -> None:
    """Every output row must be a valid exchange record; the first failure names the row."""
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[model])  # type: ignore[valid-type]
    for start in range(0, frame.height, chunk):
        rows = frame.slice(start, chunk).to_dicts()
        try:
            adapter.validate_python(rows)
        except ValidationError as exc:
            first = exc.errors()[0]
            index = start + int(first["loc"][0])
            fieldname = ".".join(str(p) for p in first["loc"][1:])
            raise PrepareError(
                f"{where}: row {index}, field '{fieldname}': {first['msg']}"
            ) from None


_TOKEN = re.compile(r"[A-Za-z0-9._%+@:-]{6,}")


def find_raw_identifiers(members_dir: Path, exchange_dir: Path) -> list[str]:
    """Raw emails, phones, usernames and account ids from the member folders that appear in any
    exchange file (an empty list is the expected answer). Used by the demo and the tests."""
    raw: set[str] = set()
    for path in members_dir.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in (*_RAW_IDENTIFIER_COLUMNS, "sender_account", "recipient_account"):
            if column in frame.columns and frame[column].dtype == pl.Utf8:
                raw.update(v for v in frame[column].drop_nulls().unique().to_list() if len(v) >= 6)
    leaks: list[str] = []
    for path in sorted(exchange_dir.rglob("*.parquet")):
        text = pl.read_parquet(path).write_ndjson()
        if any(token in raw for token in _TOKEN.findall(text)):
            leaks.append(str(path))
    return leaks
