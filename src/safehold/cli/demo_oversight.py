"""The demo's oversight pages: a transparency release of the running quarter so far (the
public /transparency page has figures to show), and the demo study's released model, if the
release gate let one out, as the model in use for /monitoring."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from safehold.cli.console import console
from safehold.cli.demo_serve import demo_hub_url
from safehold.hub.transparency import Quarter, TransparencyError, publish
from safehold.store.database import make_engine
from safehold.store.types import utcnow


def publish_demo_transparency(hub_dir: Path) -> None:
    """Publish the current quarter to date into the demo hub (once; the hub dir is fresh)."""
    now = utcnow()
    engine = make_engine(demo_hub_url(hub_dir))
    try:
        with Session(engine) as session:
            release = publish(session, hub_dir, Quarter.of(now), now=now, to_date=True)
    except TransparencyError as exc:
        console.print(f"No transparency release for the demo: {exc}", highlight=False)
        return
    finally:
        engine.dispose()
    console.print(
        f"Published the transparency release {release.name}: {len(release.figures)} "
        f"differentially private figures, epsilon {release.epsilon:g} in all, shown at "
        "/transparency without signing in.",
        highlight=False,
    )


def demo_model_dirs(hub_dir: Path) -> tuple[Path, ...]:
    """The demo study's released model folder, when the gate released one."""
    folder = hub_dir.parent / "demo-study" / "model"
    return (folder,) if (folder / "MANIFEST.sha256").is_file() else ()
