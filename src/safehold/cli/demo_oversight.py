"""The demo's oversight pages: transparency releases of the quarters the demo's alerts fall
in, the running one to date (the public /transparency page has figures to show), and the demo study's released model, if the
release gate let one out, as the model in use for /monitoring."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safehold.cli.console import console
from safehold.cli.demo_serve import demo_hub_url
from safehold.hub.transparency import Quarter, TransparencyError, publish
from safehold.store.database import make_engine
from safehold.store.models import AlertRow
from safehold.store.types import utcnow

MAX_DEMO_QUARTERS = 4


def demo_quarters(first: datetime | None, now: datetime) -> list[Quarter]:
    """The quarters from the one holding ``first`` (the earliest alert) to now, at most the
    last ``MAX_DEMO_QUARTERS``: the demo world's activity lies in the past year."""
    current = Quarter.of(now)
    quarter = Quarter.of(first) if first is not None and first < now else current
    found = []
    while quarter <= current:
        found.append(quarter)
        quarter = Quarter(quarter.year + quarter.number // 4, quarter.number % 4 + 1)
    return found[-MAX_DEMO_QUARTERS:]


def publish_demo_transparency(hub_dir: Path) -> None:
    """Publish the demo's quarters (the running one to date) into the fresh demo hub."""
    now = utcnow()
    engine = make_engine(demo_hub_url(hub_dir))
    published = []
    try:
        with Session(engine) as session:
            first = session.scalar(select(func.min(AlertRow.created_at)))
            for quarter in demo_quarters(first, now):
                release = publish(session, hub_dir, quarter, now=now, to_date=quarter.end > now)
                published.append(release)
    except TransparencyError as exc:
        console.print(f"Transparency release stopped: {exc}", highlight=False)
    finally:
        engine.dispose()
    if published:
        console.print(
            f"Published transparency releases for {', '.join(r.name for r in published)}: "
            f"{sum(len(r.figures) for r in published)} differentially private figures, "
            f"epsilon {sum(r.epsilon for r in published):g} in all, shown at /transparency "
            "without signing in.",
            highlight=False,
        )


def demo_model_dirs(hub_dir: Path) -> tuple[Path, ...]:
    """The demo study's released model folder, when the gate released one."""
    folder = hub_dir.parent / "demo-study" / "model"
    return (folder,) if (folder / "MANIFEST.sha256").is_file() else ()
