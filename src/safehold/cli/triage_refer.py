"""`safehold triage refer`: an officer sends safeguarding referrals drafted from a triage
report to the hub's cases tier. Nothing is sent until the officer has seen the drafts and
confirmed (or passed --yes, having reviewed them with --dry-run)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from safehold.cli import member
from safehold.cli.console import console, fail
from safehold.cli.triage_hub import HubKeyFile
from safehold.client.hub_api import HubError, HubUnreachableError, display_url
from safehold.client.referrals import SentReferral, send_referral
from safehold.exchange import Referral
from safehold.identity import Pseudonymiser, SecretError, load_coalition_key
from safehold.triage.referrals import draft_referrals
from safehold.triage.report import read_report


def _show(drafts: list[Referral]) -> None:
    table = Table(title="Referrals to send (pointers and reasons only; no images, no numbers)")
    for column in ("referral", "to", "child", "age band", "conversation", "messages", "reasons"):
        table.add_column(column)
    for r in drafts:
        child = r.child.case_ref or f"pseudonym {r.child.pseudonym.pseudonym[:12]}..."  # type: ignore[union-attr]
        pointer = r.evidence[0]
        table.add_row(
            r.referral_id,
            r.to_member,
            child,
            r.child_age_band.value,
            pointer.conversation_id,
            str(len(pointer.message_refs)),
            "; ".join(r.reasons),
        )
    console.print(table)


def refer(
    result_dir: Annotated[Path, typer.Argument(help="Result directory of `triage run`.")],
    to: Annotated[str, typer.Option("--to", help="The local authority member to refer to.")],
    hub: member.HubOption,
    api_key_file: HubKeyFile = None,
    key: Annotated[
        Path | None,
        typer.Option(help="Coalition key file: name each child by keyed pseudonym."),
    ] = None,
    case: Annotated[
        str | None, typer.Option(help="Case reference (default: the device name).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking again.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show the referrals; send nothing.")] = False,
) -> None:
    """Draft one referral per warned conversation with a likely child, show it, and send it
    on the officer's confirmation. Sending again is safe: the hub stores each once."""
    path = result_dir / "report.json"
    try:
        report = read_report(path)
    except OSError as exc:
        fail(f"{path}: cannot read the triage report ({exc.strerror}); run `safehold triage run`")
    except (ValidationError, ValueError) as exc:
        fail(f"{path}: not a triage report ({exc.__class__.__name__})")
    pseudonymiser = None
    if key is not None:
        try:
            pseudonymiser = Pseudonymiser(load_coalition_key(key))
        except SecretError as exc:
            fail(str(exc))
    try:
        drafts = draft_referrals(report, to, case_reference=case, pseudonymiser=pseudonymiser)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        fail(f"cannot draft referrals ({fields}): check --to and --case are plain identifiers")
    if not drafts:
        console.print(
            f"{report.device}: no warned conversation with a likely child; nothing to send"
        )
        return
    _show(drafts)
    if dry_run:
        console.print(f"dry run: {len(drafts)} referral(s) drafted, nothing sent")
        return
    if not yes and not typer.confirm(f"Send {len(drafts)} referral(s) to {to}?", default=False):
        console.print("nothing sent")
        return
    sent = _send(hub, member._api_key(api_key_file), drafts)
    for s in sent:
        state = "already at the hub (replay)" if s.replayed else "stored"
        console.print(f"sent {s.referral_id} to {s.to_member}: {state}, case {s.case_id}")
    console.print(f"{len(sent)} referral(s) sent to {display_url(hub)}")


def _send(hub: str, api_key: str, drafts: list[Referral]) -> list[SentReferral]:
    sent: list[SentReferral] = []
    with closing(member.open_hub(hub)) as http:
        api, _member_id = member._connect(http, hub, api_key, 6)
        for draft in drafts:
            try:
                sent.append(send_referral(api, draft))
            except HubUnreachableError as exc:
                fail(
                    f"{len(sent)} of {len(drafts)} sent; then {exc}: run the command again "
                    "(what was sent is not sent twice)",
                    member.EXIT_RETRY_LATER,
                )
            except HubError as exc:
                fields = ", ".join(str(d.get("field")) for d in exc.details)
                fail(
                    f"{len(sent)} of {len(drafts)} sent; the hub refused {draft.referral_id}: "
                    f"{exc.status} {exc.code}: {exc.message}"
                    + (f" (fields: {fields})" if fields else "")
                )
    return sent
