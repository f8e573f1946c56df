"""`safehold schema ...`: the exchange format as JSON Schema and as a data dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safehold.cli.console import console, fail
from safehold.exchange.dictionary import render_data_dictionary
from safehold.exchange.schema_export import export_schemas

app = typer.Typer(
    help="The exchange format: JSON Schema files and the data dictionary.", no_args_is_help=True
)


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the schema files into.")],
) -> None:
    """Write one JSON Schema per exchange type into DIRECTORY."""
    if directory.exists() and not directory.is_dir():
        fail(f"{directory} exists and is not a folder; give a folder path")
    written = export_schemas(directory)
    console.print(f"Wrote {len(written)} JSON Schema files to [bold]{directory}[/]:")
    for path in written:
        console.print(f"  {path.name}")


@app.command("dictionary")
def dictionary(
    out: Annotated[Path, typer.Option(help="Where to write the data dictionary.")] = Path(
        "docs/data-dictionary.md"
    ),
    check: Annotated[
        bool, typer.Option(help="Only check that OUT is up to date; exit 1 if not.")
    ] = False,
) -> None:
    """Render the data dictionary from the models (docs/data-dictionary.md)."""
    text = render_data_dictionary()
    if check:
        if not out.exists() or out.read_text() != text:
            fail(f"{out} is stale; run 'safehold schema dictionary --out {out}'", code=1)
        console.print(f"{out} is up to date.")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"Wrote the data dictionary to [bold]{out}[/].")
