"""/monitoring: precision from reviewers' decisions per week, rule and model version, time to
decision and backlog; a warning below the model's pre-registered minimum PPV, and "no model
configured" without one; a platform sees its own alerts only, coalition staff see all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from safehold.exchange.model_version import model_version
from safehold.hub.models_in_use import ModelFolderError, read_model
from safehold.store.models import AlertRow, DecisionRow
from safehold.store.types import utcnow
from tests.databases import sqlite_url
from tests.hub.conftest import Hub, make_hub
from tests.hub.web.conftest import add_web_user, sign_in


def released_model(folder: Path, minimum_ppv: float) -> Path:
    """A model folder shaped as research.artifact writes one (the hub reads only JSON)."""
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps({"artifact_version": 1, "threshold": 0.5}))
    report = {
        "title": "Offender contact study",
        "prereg": {"minimum_ppv": minimum_ppv},
        "prereg_sha256": "ab" * 32,
    }
    (folder / "report.json").write_text(json.dumps(report))
    lines = "".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n"
        for n in ("report.json", "spec.json")
    )
    (folder / "MANIFEST.sha256").write_text(lines)
    return folder


def _alerts(hub: Hub, member: str, version: str | None, confirmed: int, dismissed: int) -> None:
    now = utcnow()
    with Session(hub.engine) as session, session.begin():
        for n in range(confirmed + dismissed):
            alert_id = f"{member}-{n:03d}"
            payload = {"rules": ["flagged_sender"], "reasons": ["r"]}
            if version:
                payload["model"] = {"band": "high", "version": version}
            session.add(
                AlertRow(
                    alert_id=alert_id,
                    member_id=member,
                    severity=4,
                    status="decided" if n < confirmed else "dismissed",
                    created_at=now - timedelta(days=3, hours=n),
                    payload=payload,
                )
            )
            session.flush()
            session.add(
                DecisionRow(
                    alert_id=alert_id,
                    member_id=member,
                    kind="warn" if n < confirmed else "dismiss",
                    rationale="reviewed the reasons shown",
                    created_at=now - timedelta(days=3, hours=n) + timedelta(hours=2),
                    payload={},
                    status="final",
                )
            )
        session.add(
            AlertRow(
                alert_id=f"{member}-open",
                member_id=member,
                severity=2,
                status="open",
                created_at=now - timedelta(days=45),
                payload={"rules": ["fan_out"]},
            )
        )


@pytest.fixture
def model_hub(tmp_path: Path) -> Iterator[tuple[Hub, str]]:
    folder = released_model(tmp_path / "model", minimum_ppv=0.5)
    hub = make_hub(tmp_path, sqlite_url(tmp_path), model_dirs=(folder,))
    try:
        yield hub, model_version(folder)
    finally:
        hub.client.close()
        hub.engine.dispose()


def test_precision_below_the_preregistered_minimum_warns(model_hub: tuple[Hub, str]) -> None:
    hub, version = model_hub
    _alerts(hub, "plat-a", version, confirmed=3, dismissed=27)  # 10% against 50%
    _alerts(hub, "plat-b", None, confirmed=9, dismissed=1)
    add_web_user(hub, "rev", "platform")
    page = sign_in(hub, "rev").client.get("/monitoring")
    assert page.status_code == 200
    text = page.text
    assert 'id="precision-warning"' in text and "not chance" in text
    assert "10.0% (3 of 30" in text
    assert f'data-key="{version}"' in text
    assert 'data-figure="decided">30<' in text, "plat-b's alerts leaked into plat-a's page"
    assert 'data-figure="median-hours">2.0 h' in text
    assert 'data-age="over 30 days"><td>over 30 days</td><td class="num">1<' in text


def test_coalition_staff_see_all_members_and_no_warning_above_the_minimum(
    model_hub: tuple[Hub, str],
) -> None:
    hub, version = model_hub
    _alerts(hub, "plat-a", version, confirmed=24, dismissed=6)
    _alerts(hub, "plat-b", None, confirmed=1, dismissed=9)
    add_web_user(hub, "aud", "auditor")
    auditor = sign_in(hub, "aud").client
    text = auditor.get("/monitoring").text
    assert 'data-figure="decided">40<' in text
    assert 'id="precision-warning"' not in text and "80.0% (24 of 30" in text
    only_b = auditor.get("/monitoring?member=plat-b").text
    assert 'data-figure="decided">10<' in only_b


def test_without_a_model_the_page_says_no_model_configured(web_hub: Hub) -> None:
    _alerts(web_hub, "plat-a", None, confirmed=1, dismissed=9)
    add_web_user(web_hub, "op", "operator")
    add_web_user(web_hub, "pc", "police")
    text = sign_in(web_hub, "op").client.get("/monitoring").text
    assert 'id="no-model"' in text and "No model configured" in text
    assert 'id="precision-warning"' not in text
    assert sign_in(web_hub, "pc").client.get("/monitoring").status_code == 403


def test_an_altered_model_folder_is_refused(tmp_path: Path) -> None:
    folder = released_model(tmp_path / "m", minimum_ppv=0.3)
    assert read_model(folder).minimum_ppv == 0.3
    (folder / "report.json").write_text(json.dumps({"prereg": {"minimum_ppv": 0.01}}))
    with pytest.raises(ModelFolderError, match="does not match its SHA-256"):
        read_model(folder)
    with pytest.raises(ModelFolderError, match="no MANIFEST"):
        read_model(tmp_path)
