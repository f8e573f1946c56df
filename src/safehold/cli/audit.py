"""`safehold audit ...`: check the hub's tamper-evident audit trail (placeholder, issue 3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check the hub's hash-chained audit trail.", no_args_is_help=True)
