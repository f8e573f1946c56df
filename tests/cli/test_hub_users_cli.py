"""`safehold hub user ...` and `safehold hub webhook secret`: web accounts and webhook
secrets from the command line, on a fresh data directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.store.database import make_engine
from safehold.store.models import AuditEventRow, UserRow, WebSessionRow
from safehold.store.users import open_session

PASSWORD = "a long enough password\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAFEHOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SAFEHOLD_DATABASE_URL", raising=False)
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "hub",
            "member",
            "add",
            "plat-x",
            "--name",
            "X",
            "--kind",
            "platform",
            "--size-band",
            "small",
        ],
    )
    assert added.exit_code == 0, added.output
    return tmp_path / "data"


def _users(data_dir: Path) -> list[UserRow]:
    engine = make_engine(f"sqlite:///{data_dir / 'hub.db'}")
    with Session(engine) as session:
        rows = list(session.scalars(select(UserRow).order_by(UserRow.username)))
    engine.dispose()
    return rows


def test_user_add_takes_the_members_role_and_never_the_password_on_the_command_line(
    data_dir: Path,
) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["hub", "user", "add", "alice", "--member", "plat-x", "--password-stdin"], PASSWORD
    )
    assert out.exit_code == 0, out.output
    assert "platform of member plat-x" in out.output
    staff = runner.invoke(
        app, ["hub", "user", "add", "aud", "--role", "auditor", "--password-stdin"], PASSWORD
    )
    assert staff.exit_code == 0, staff.output
    users = _users(data_dir)
    assert [(u.username, u.role, u.member_id) for u in users] == [
        ("alice", "platform", "plat-x"),
        ("aud", "auditor", None),
    ]
    assert all(u.password_hash.startswith("$argon2") for u in users)
    assert "long enough" not in runner.invoke(app, ["hub", "user", "list"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "--member", "plat-x"], "at least 12 characters"),
        (["bob", "--member", "nobody"], "no member 'nobody'"),
        (["bob"], "operator' or 'auditor"),
        (["bob", "--member", "plat-x", "--role", "auditor"], "not both"),
    ],
)
def test_user_add_refuses_with_a_reason(data_dir: Path, args: list[str], message: str) -> None:
    password = "short\n" if "12" in message else PASSWORD
    out = CliRunner().invoke(app, ["hub", "user", "add", *args, "--password-stdin"], password)
    assert out.exit_code != 0
    assert message in out.output


def test_disable_ends_sessions_at_once(data_dir: Path) -> None:
    runner = CliRunner()
    runner.invoke(
        app, ["hub", "user", "add", "alice", "--member", "plat-x", "--password-stdin"], PASSWORD
    )
    engine = make_engine(f"sqlite:///{data_dir / 'hub.db'}")
    with Session(engine) as session, session.begin():
        open_session(session, _users(data_dir)[0].user_id)
    assert runner.invoke(app, ["hub", "user", "disable", "alice"]).exit_code == 0
    with Session(engine) as session:
        assert all(s.revoked_at is not None for s in session.scalars(select(WebSessionRow)))
        actions = [e.action for e in session.scalars(select(AuditEventRow))]
    engine.dispose()
    assert "user.add" in actions and "user.disable" in actions
    assert "disabled" in runner.invoke(app, ["hub", "user", "list"]).output


def test_webhook_secret_is_private_and_not_overwritten_by_accident(data_dir: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["hub", "webhook", "secret", "plat-x"])
    assert made.exit_code == 0, made.output
    path = data_dir / "decision-webhooks" / "plat-x.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert path.read_text().strip() not in made.output
    again = runner.invoke(app, ["hub", "webhook", "secret", "plat-x"])
    assert again.exit_code != 0 and "--replace" in again.output
    assert runner.invoke(app, ["hub", "webhook", "secret", "nobody"]).exit_code != 0
