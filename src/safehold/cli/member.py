"""`safehold member ...`: the member toolkit: coalition key files, preparing data to send,
submitting it to the hub, and checking the member's accounts against the registry."""

from __future__ import annotations

import math
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import polars as pl
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from safehold.cli import member_score
from safehold.cli.console import console, err_console, fail
from safehold.client.batch_files import (
    DEFAULT_BATCH_RECORDS,
    BatchFileError,
    BatchSummary,
    batches_from_prepared,
    count_batches,
    is_batch_file,
    read_batch_dicts,
    write_batch_file,
)
from safehold.client.check import (
    MAX_CHECK_ACCOUNTS,
    CheckAccount,
    CheckError,
    CheckResult,
    check_accounts,
    row_ref,
)
from safehold.client.hub_api import (
    HubApi,
    HubError,
    HubUnreachableError,
    RetryPolicy,
    check_api_key,
    display_url,
)
from safehold.client.journal import Journal, journal_path
from safehold.client.submit import (
    BatchOutcome,
    PendingBatch,
    SubmitInterruptedError,
    SubmitReport,
    SubmitStoppedError,
    describe_details,
    submit_batches,
)
from safehold.exchange import IdentifierKind, Member, MemberKind, SubjectRef
from safehold.identity import (
    CoalitionKey,
    Pseudonymiser,
    SecretError,
    generate_secret_file,
    load_coalition_key,
)
from safehold.identity.prepare import PreparedMember, PrepareError, prepare_member

app = typer.Typer(
    help="Member toolkit: pseudonymise on your side before anything leaves it.",
    no_args_is_help=True,
)

API_KEY_ENV = "SAFEHOLD_API_KEY"
HUB_URL_ENV = "SAFEHOLD_HUB_URL"
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_RETRY_LATER = 75
"""Exit status when the hub stayed unreachable: nothing is lost, run the command again."""

HubOption = Annotated[
    str,
    typer.Option("--hub", envvar=HUB_URL_ENV, help="The hub's URL, e.g. https://hub.example.org"),
]
ApiKeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--api-key-file",
        help=f"File holding the member's API key (or set {API_KEY_ENV}); never pass the key itself.",
    ),
]
RetriesOption = Annotated[
    int,
    typer.Option(
        min=1, max=20, help="Tries per request when the network fails or the hub is busy."
    ),
]


def open_hub(url: str) -> httpx.Client:
    """The HTTP client for ``url`` (tests replace this to talk to an in-process hub)."""
    return httpx.Client(base_url=url, timeout=httpx.Timeout(120.0, connect=15.0))


@app.command("keygen")
def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the key file (mode 0600).")],
    version: Annotated[
        int, typer.Option(help="Key version; raise it when rotating the secret.")
    ] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing key file.")] = False,
) -> None:
    """Make a coalition key file. The operator makes it once and shares it with members securely."""
    try:
        key = generate_secret_file(path, version=version, overwrite=overwrite)
    except SecretError as exc:
        fail(str(exc))
    console.print(
        f"Wrote coalition key version {key.version} to {path} (mode 0600, fingerprint {key.fingerprint})."
    )


# --- prepare ----------------------------------------------------------------------------


@app.command("prepare")
def prepare(
    member_dir: Annotated[
        Path, typer.Argument(help="The member's folder of raw tables (member.json, *.parquet).")
    ],
    key: Annotated[Path, typer.Option(help="The coalition key file.")],
    out: Annotated[
        Path,
        typer.Option(
            help="A batch file to submit (ends in .ndjson or .ndjson.gz), or a folder for "
            "exchange-format Parquet."
        ),
    ],
    kind: Annotated[
        MemberKind | None,
        typer.Option(
            help="The member's kind, checked against member.json before anything is written."
        ),
    ] = None,
    region: Annotated[
        str, typer.Option(help="Default region for phone numbers without a country code.")
    ] = "GB",
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Records per batch in a batch file.")
    ] = DEFAULT_BATCH_RECORDS,
) -> None:
    """Normalise and pseudonymise a member's raw tables into a batch file or Parquet folder."""
    if kind is not None:
        _check_kind(member_dir, kind)
    try:
        coalition_key = load_coalition_key(key)
        if is_batch_file(out):
            result, summary = _prepare_batch_file(
                member_dir, coalition_key, out, region=region, batch_size=batch_size
            )
        else:
            result = prepare_member(member_dir, coalition_key, out, default_region=region)
            summary = None
    except (SecretError, PrepareError, BatchFileError) as exc:
        fail(str(exc))
    if summary is None:
        console.print(f"Prepared {result.member.member_id} into {out}:")
        for name, n in result.files.items():
            console.print(f"  {name}: {n:,} records")
    else:
        console.print(
            f"Prepared {result.member.member_id}: wrote {len(summary.batch_ids):,} batches "
            f"({summary.total_records:,} records) to {out}:"
        )
        for record_type, n in summary.records.items():
            batches = summary.batches_by_type[record_type]
            console.print(f"  {record_type}: {n:,} records in {batches:,} batch(es)")
        console.print(f"Send it with: safehold member submit {out} --hub URL")
    if result.rejected_identifiers:
        console.print(
            f"  {result.rejected_identifiers:,} identifiers could not be normalised and were left out."
        )


def _check_kind(member_dir: Path, kind: MemberKind) -> None:
    """--kind must agree with member.json (an unreadable member.json is prepare's to report)."""
    try:
        member = Member.model_validate_json((member_dir / "member.json").read_bytes())
    except (OSError, ValueError):
        return
    if member.kind is not kind:
        fail(
            f"--kind {kind.value} does not match {member_dir / 'member.json'}, which says "
            f"{member.member_id} is a {member.kind.value}; pass --kind {member.kind.value} or "
            "prepare the right member's folder"
        )


def _prepare_batch_file(
    member_dir: Path, key: CoalitionKey, out: Path, *, region: str, batch_size: int
) -> tuple[PreparedMember, BatchSummary]:
    """Prepare into a temporary folder beside ``out``, then write the batch file from it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as staging:
        prepared = Path(staging) / "prepared"
        result = prepare_member(member_dir, key, prepared, default_region=region)
        summary = write_batch_file(out, batches_from_prepared(prepared, max_records=batch_size))
    return result, summary


# --- the API key and the hub ----------------------------------------------------------


def _api_key(api_key_file: Path | None) -> str:
    if api_key_file is not None:
        try:
            text = api_key_file.read_text()
            mode = api_key_file.stat().st_mode
        except OSError as exc:
            fail(f"cannot read the API key file {api_key_file} ({exc.strerror})")
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            err_console.print(
                f"[yellow]warning:[/] {api_key_file} can be read by others; "
                f"`chmod 600 {api_key_file}` keeps the key to yourself",
                highlight=False,
            )
        source = str(api_key_file)
    else:
        text = os.environ.get(API_KEY_ENV, "")
        source = API_KEY_ENV
        if not text.strip():
            fail(f"no API key: pass --api-key-file PATH or set {API_KEY_ENV}")
    try:
        return check_api_key(text)
    except ValueError as exc:
        fail(f"{source}: {exc}")


def _connect(http: httpx.Client, hub: str, key: str, retries: int) -> tuple[HubApi, str | None]:
    """The hub API and the key's member id, after checking the key with ``/v1/me``."""
    api = HubApi(http, key, RetryPolicy(attempts=retries))
    hub = display_url(hub)
    try:
        me = api.whoami()
    except HubUnreachableError as exc:
        fail(f"could not reach the hub at {hub}: {exc}; nothing was sent", EXIT_RETRY_LATER)
    except HubError as exc:
        if exc.status == 401:
            fail(f"the hub at {hub} did not accept the API key ({exc.message}); nothing was sent")
        fail(f"the hub at {hub} answered {exc.status} {exc.code}: {exc.message}; nothing was sent")
    return api, me.member_id


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        progress.add_task(description, total=total, note="")
        yield progress


# --- submit -----------------------------------------------------------------------------


@dataclass
class _Source:
    """One journal's worth of batches: a batch file, or a prepared Parquet folder."""

    path: Path
    total: int
    batches: Iterator[PendingBatch]


def _sources(path: Path, batch_size: int) -> list[_Source]:
    if path.is_file() and is_batch_file(path):
        return [_Source(path, count_batches(path), read_batch_dicts(path))]
    if path.is_dir() and (path / "member.json").exists():
        try:
            total = sum(
                math.ceil(pl.scan_parquet(p).select(pl.len()).collect().item() / batch_size)
                for p in path.glob("*.parquet")
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            fail(f"cannot read the prepared files in {path} ({type(exc).__name__})")
        return [_Source(path, total, iter(batches_from_prepared(path, max_records=batch_size)))]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_batch_file(p))
        if files:
            return [_Source(p, count_batches(p), read_batch_dicts(p)) for p in files]
    fail(
        f"{path} is not a batch file (.ndjson, .ndjson.gz), a folder of batch files, or a "
        "folder written by `safehold member prepare`"
    )


@app.command("submit")
def submit(
    source: Annotated[
        Path,
        typer.Argument(
            help="A batch file (.ndjson or .ndjson.gz), a folder of them, or a prepared Parquet folder."
        ),
    ],
    hub: HubOption,
    api_key_file: ApiKeyFileOption = None,
    batch_size: Annotated[
        int,
        typer.Option(min=1, max=100_000, help="Records per batch when sending a Parquet folder."),
    ] = DEFAULT_BATCH_RECORDS,
    retries: RetriesOption = 6,
) -> None:
    """Send prepared batches to the hub, gzip-compressed, one batch per request.

    A journal beside the input (<input>.submitted.jsonl) lists every batch the hub
    acknowledged, so running the same command again resumes where it stopped; the hub's
    idempotency makes a resent batch a replay, never a duplicate. Exit status 75 means the
    hub stayed unreachable: run the same command again."""
    try:
        sources = _sources(source, batch_size)
    except BatchFileError as exc:
        fail(str(exc))
    key = _api_key(api_key_file)
    with closing(open_hub(hub)) as http:
        api, member_id = _connect(http, hub, key, retries)
        report = _submit_all(api, member_id, sources)
    _print_submitted(report, display_url(hub), sources)


def _submit_all(api: HubApi, member_id: str | None, sources: list[_Source]) -> SubmitReport:
    total = sum(s.total for s in sources)
    report = SubmitReport()
    with _progress("submitting batches", total) as progress:
        task = progress.task_ids[0]

        def advance(outcome: BatchOutcome) -> None:
            progress.advance(task)
            progress.update(task, note=f"{outcome.batch_id} ({outcome.status})")

        for item in sources:
            journal = Journal(journal_path(item.path), api.hub_url)
            try:
                done = submit_batches(
                    api,
                    item.batches,
                    journal,
                    member_id=member_id,
                    source=str(item.path),
                    on_batch=advance,
                )
            except SubmitInterruptedError as exc:
                progress.stop()
                _merge(report, exc.report)
                fail(
                    f"{exc.cause} while sending batch {exc.batch_id}. {report.acknowledged:,} of "
                    f"{total:,} batches are acknowledged by the hub ({report.stored:,} stored in "
                    f"this run); run the same command again to resume",
                    EXIT_RETRY_LATER,
                )
            except SubmitStoppedError as exc:
                progress.stop()
                _merge(report, exc.report)
                _print_stopped(exc, report, total)
            except BatchFileError as exc:
                progress.stop()
                fail(str(exc))
            _merge(report, done)
    return report


def _merge(total: SubmitReport, part: SubmitReport) -> None:
    for outcome in part.outcomes:
        total.add(outcome)


def _print_stopped(exc: SubmitStoppedError, report: SubmitReport, total: int) -> None:
    which = f"batch {exc.batch_id}" if exc.batch_id else "a batch"
    err_console.print(f"[bold red]{which} was not accepted:[/] {exc.reason}", highlight=False)
    if exc.error is not None:
        for line in describe_details(exc.error.details):
            err_console.print(f"  {line}", highlight=False)
    fail(
        f"stopped at {which}; {report.acknowledged:,} of {total:,} batches are acknowledged by "
        "the hub. Fix the problem above, then run the same command again",
        EXIT_REFUSED,
    )


def _print_submitted(report: SubmitReport, hub: str, sources: list[_Source]) -> None:
    console.print(
        f"Submitted to {hub}: {report.acknowledged:,} batches acknowledged "
        f"({report.records:,} records). {report.stored:,} stored now, {report.replayed:,} "
        f"were already stored (replayed), {report.skipped:,} skipped as already in the journal."
    )
    for item in sources:
        console.print(f"  journal: {journal_path(item.path)}")


# --- check ------------------------------------------------------------------------------

_CHECK_KINDS = (
    ("email", IdentifierKind.EMAIL),
    ("phone", IdentifierKind.PHONE),
    ("username", IdentifierKind.USERNAME),
)


@dataclass
class PseudonymisedAccounts:
    account_ids: list[str | None]
    identifiers: list[list[SubjectRef]]
    unusable: int = 0


def _read_accounts(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        else:
            fail(f"{path}: the accounts file must be Parquet (.parquet) or CSV (.csv)")
    except (OSError, pl.exceptions.PolarsError) as exc:
        fail(f"cannot read the accounts file {path} ({type(exc).__name__})")
    present = [column for column, _ in _CHECK_KINDS if column in frame.columns]
    if "account_id" not in frame.columns or not present:
        fail(
            f"{path} needs an account_id column and at least one of email, phone, username "
            "(see docs/member-data-layout.md)"
        )
    return frame.select(pl.col(c).cast(pl.Utf8, strict=False) for c in ("account_id", *present))


def pseudonymise_accounts(
    frame: pl.DataFrame, key: CoalitionKey, member_id: str | None, region: str
) -> PseudonymisedAccounts:
    """Each row's identifier pseudonyms, computed here: no raw identifier leaves."""
    pseudonymiser = Pseudonymiser(key, phone_region=region)
    out = PseudonymisedAccounts(frame["account_id"].to_list(), [[] for _ in range(frame.height)])
    for column, kind in _CHECK_KINDS:
        if column not in frame.columns:
            continue
        if kind is IdentifierKind.USERNAME and member_id is None:
            continue  # usernames mean something only on a platform
        raw = frame[column].to_list()
        platform = member_id if kind is IdentifierKind.USERNAME else None
        hashed = pseudonymiser.pseudonymise_many(kind, raw, platform=platform, on_invalid="none")
        for row, (value, pseudonym) in enumerate(zip(raw, hashed, strict=True)):
            if pseudonym is not None:
                out.identifiers[row].append(
                    SubjectRef(kind=kind, pseudonym=pseudonym, key_version=key.version)
                )
            elif value is not None and value.strip():
                out.unusable += 1
    return out


@app.command("check")
def check(
    accounts: Annotated[
        Path,
        typer.Argument(
            help="The member's accounts table (Parquet or CSV): account_id and any of email, phone, username."
        ),
    ],
    key: Annotated[Path, typer.Option(help="The coalition key file.")],
    hub: HubOption,
    out: Annotated[Path, typer.Option(help="Where to write the results (CSV, kept locally).")],
    api_key_file: ApiKeyFileOption = None,
    region: Annotated[
        str, typer.Option(help="Default region for phone numbers without a country code.")
    ] = "GB",
    per_request: Annotated[
        int, typer.Option(min=1, max=MAX_CHECK_ACCOUNTS, help="Accounts per request.")
    ] = MAX_CHECK_ACCOUNTS,
    retries: RetriesOption = 6,
) -> None:
    """Check the member's accounts against the registry: match or no match for each.

    Identifiers are pseudonymised here with the coalition key; the hub receives only the
    pseudonyms under row tokens, never an account id, email, phone number or username. The
    results (account_id, checked, match, typology) are written to --out on this machine."""
    frame = _read_accounts(accounts)
    try:
        coalition_key = load_coalition_key(key)
    except SecretError as exc:
        fail(str(exc))
    api_key = _api_key(api_key_file)
    with closing(open_hub(hub)) as http:
        api, member_id = _connect(http, hub, api_key, retries)
        keyed = pseudonymise_accounts(frame, coalition_key, member_id, region)
        results = _check_all(api, keyed, per_request)
    _write_results(out, keyed, results)
    _print_checked(accounts, out, frame.height, keyed, results)


def _check_all(api: HubApi, keyed: PseudonymisedAccounts, per_request: int) -> list[CheckResult]:
    to_check = [
        CheckAccount(row_ref(row), tuple(ids)) for row, ids in enumerate(keyed.identifiers) if ids
    ]
    with _progress("checking accounts", len(to_check)) as progress:
        task = progress.task_ids[0]
        try:
            results = check_accounts(
                api,
                to_check,
                per_request=per_request,
                on_request=lambda n: progress.advance(task, n),
            )
        except CheckError as exc:
            progress.stop()
            if exc.error is not None:
                for line in describe_details(
                    exc.error.details, unit="account in the request", whole="request"
                ):
                    err_console.print(f"  {line}", highlight=False)
            code = EXIT_RETRY_LATER if exc.error is None else EXIT_REFUSED
            fail(f"{exc}", code)
    return results


def _write_results(out: Path, keyed: PseudonymisedAccounts, results: list[CheckResult]) -> None:
    by_row: dict[int, CheckResult] = {int(r.ref[1:]): r for r in results}
    rows: list[dict[str, Any]] = []
    for row, account_id in enumerate(keyed.account_ids):
        result = by_row.get(row)
        rows.append(
            {
                "account_id": account_id,
                "checked": result is not None,
                "match": None if result is None else result.match,
                "typology": None if result is None else result.typology,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "account_id": pl.Utf8,
            "checked": pl.Boolean,
            "match": pl.Boolean,
            "typology": pl.Utf8,
        },
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        frame.write_csv(staging)
        os.replace(staging, out)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _print_checked(
    accounts: Path, out: Path, rows: int, keyed: PseudonymisedAccounts, results: list[CheckResult]
) -> None:
    matches = [r for r in results if r.match]
    unchecked = rows - len(results)
    console.print(
        f"Checked {len(results):,} of the {rows:,} accounts in {accounts} against the registry: "
        f"{len(matches):,} match(es)."
    )
    typologies = Counter(r.typology for r in matches if r.typology is not None)
    if typologies:
        shown = ", ".join(f"{name}: {n:,}" for name, n in sorted(typologies.items()))
        console.print(f"  by offence typology: {shown}")
    if unchecked:
        console.print(f"  {unchecked:,} accounts had no usable identifier and were not checked.")
    if keyed.unusable:
        console.print(
            f"  {keyed.unusable:,} identifiers could not be normalised and were left out."
        )
    console.print(f"Results (kept on this machine): {out}")


app.command("score")(member_score.score)
