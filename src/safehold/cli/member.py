"""`safehold member ...`: the member toolkit: coalition key files and preparing data to send."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safehold.cli.console import console, fail
from safehold.identity import SecretError, generate_secret_file, load_coalition_key
from safehold.identity.prepare import PrepareError, prepare_member

app = typer.Typer(
    help="Member toolkit: pseudonymise on your side before anything leaves it.",
    no_args_is_help=True,
)


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


@app.command("prepare")
def prepare(
    member_dir: Annotated[
        Path, typer.Argument(help="The member's folder of raw tables (member.json, *.parquet).")
    ],
    key: Annotated[Path, typer.Option(help="The coalition key file.")],
    out: Annotated[Path, typer.Option(help="Folder for the exchange-format files.")],
    region: Annotated[
        str, typer.Option(help="Default region for phone numbers without a country code.")
    ] = "GB",
) -> None:
    """Normalise and pseudonymise a member's raw tables into exchange-format Parquet."""
    try:
        coalition_key = load_coalition_key(key)
        result = prepare_member(member_dir, coalition_key, out, default_region=region)
    except (SecretError, PrepareError) as exc:
        fail(str(exc))
    console.print(f"Prepared {result.member.member_id} into {out}:")
    for name, n in result.files.items():
        console.print(f"  {name}: {n:,} records")
    if result.rejected_identifiers:
        console.print(
            f"  {result.rejected_identifiers:,} identifiers could not be normalised and were left out."
        )
