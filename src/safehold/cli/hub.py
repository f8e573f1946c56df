"""`safehold hub ...`: run and administer the coalition hub (placeholder, issue 3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run and administer the coalition hub.", no_args_is_help=True)
