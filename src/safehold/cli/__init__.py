"""The `safehold` command line: one Typer sub-app per area, Rich for progress and tables.

This package may import everything in safehold; nothing imports it except the console
entry point.
"""
