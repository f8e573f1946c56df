"""Alerts on disk: one Parquet file, rewritten whole, merged by alert id.

Why merge on write: screening the same events again (a replay, a retried job) must give
the same alert ids and add nothing; merging by id makes writing idempotent."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from safehold.klaxon.engine import ALERT_SCHEMA, changed_alerts, empty_alerts, merge_alerts


class AlertFileError(ValueError):
    """An alerts file that is not one the klaxon wrote."""


@dataclass(frozen=True)
class AlertWrite:
    new: int
    updated: int
    unchanged: int
    total: int


def read_alerts(path: Path) -> pl.DataFrame:
    if not path.exists():
        return empty_alerts()
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError):
        raise AlertFileError(
            f"{path} is not a readable Parquet file; choose another --out"
        ) from None
    if frame.schema != pl.Schema(ALERT_SCHEMA):
        raise AlertFileError(
            f"{path} is not a klaxon alerts file (its columns differ); choose another --out"
        )
    return frame


def write_alerts(path: Path, alerts: pl.DataFrame) -> AlertWrite:
    """Merge ``alerts`` into the file at ``path`` (created if absent), all or nothing."""
    existing = read_alerts(path)
    merged = merge_alerts(existing, alerts)
    changed = changed_alerts(existing, merged)
    new = int(changed["is_new"].sum())
    updated = changed.height - new
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        merged.write_parquet(staging)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return AlertWrite(
        new=new, updated=updated, unchanged=merged.height - new - updated, total=merged.height
    )
