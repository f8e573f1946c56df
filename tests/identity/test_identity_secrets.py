"""Coalition keys and secret files: owner-only permissions, clear errors, no secret in text."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from safehold.identity import CoalitionKey, SecretError, generate_secret_file, load_coalition_key

SECRET = bytes(range(100, 132))


def _secret_forms(secret: bytes) -> list[str]:
    return [base64.b64encode(secret).decode(), secret.hex(), repr(secret)[2:-1]]


def _write(path: Path, document: object, mode: int = 0o600) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    path.chmod(mode)
    return path


def _doc(secret: bytes = SECRET, version: object = 3) -> dict[str, object]:
    return {
        "format": "safehold-coalition-key",
        "version": version,
        "secret": base64.b64encode(secret).decode(),
        "created": "2025-01-01T00:00:00+00:00",
    }


def test_repr_and_str_hide_the_secret() -> None:
    key = CoalitionKey(version=2, secret=SECRET)
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert "version=2" in text
        for form in _secret_forms(SECRET):
            assert form not in text


def test_key_validation_and_equality() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        CoalitionKey(version=1, secret=b"x" * 31)
    with pytest.raises(ValueError, match="between 1 and"):
        CoalitionKey(version=0, secret=SECRET)
    with pytest.raises(TypeError):
        CoalitionKey(version=True, secret=SECRET)
    assert CoalitionKey(1, SECRET) == CoalitionKey(1, SECRET)
    assert CoalitionKey(1, SECRET) != CoalitionKey(2, SECRET)
    assert CoalitionKey(1, SECRET).fingerprint != CoalitionKey(1, bytes(32)).fingerprint


def test_generate_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "coalition.key"
    key = generate_secret_file(path, version=4)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["format"] == "safehold-coalition-key"
    assert document["version"] == 4
    assert len(base64.b64decode(document["secret"])) == 32
    assert isinstance(document["created"], str)
    assert load_coalition_key(path) == key
    assert generate_secret_file(tmp_path / "other.key", version=4) != key  # fresh randomness


def test_generate_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        generate_secret_file(tmp_path / "k", version=1)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


def test_generate_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "coalition.key"
    first = generate_secret_file(path, version=1)
    with pytest.raises(SecretError, match="already exists") as info:
        generate_secret_file(path, version=2)
    assert str(path) in str(info.value)
    assert load_coalition_key(path) == first
    second = generate_secret_file(path, version=2, overwrite=True)
    assert load_coalition_key(path) == second != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coalition.key"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.key"
    with pytest.raises(SecretError, match="not found") as info:
        load_coalition_key(path)
    assert str(path) in str(info.value)
    assert "generate_secret_file" in str(info.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o700 | 0o004])
def test_group_or_world_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path / "k", _doc(), mode)
    with pytest.raises(SecretError, match="chmod 600") as info:
        load_coalition_key(path)
    assert f"{mode:04o}" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    assert load_coalition_key(_write(tmp_path / "k", _doc(), mode)).version == 3


def test_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(SecretError, match="not a regular file"):
        load_coalition_key(folder)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated, because the tests may run as root, who can open any file."""
    path = _write(tmp_path / "k", _doc(), 0o600)

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(SecretError, match="cannot be opened") as info:
        load_coalition_key(path)
    assert str(path) in str(info.value)
    assert "Permission denied" in str(info.value)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("not json {", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        ({**_doc(), "format": "something-else"}, "'format'"),
        ({k: v for k, v in _doc().items() if k != "format"}, "'format'"),
        (_doc(version="3"), "'version'"),
        (_doc(version=True), "'version'"),
        (_doc(version=0), "'version'"),
        ({**_doc(), "secret": "!!not base64!!"}, "'secret'"),
        ({**_doc(), "secret": 12345}, "'secret'"),
        ({k: v for k, v in _doc().items() if k != "secret"}, "'secret'"),
        ({**_doc(), "created": 5}, "'created'"),
    ],
)
def test_malformed_files(tmp_path: Path, document: object, reason: str) -> None:
    path = _write(tmp_path / "k", document)
    with pytest.raises(SecretError, match="malformed") as info:
        load_coalition_key(path)
    message = str(info.value)
    assert reason in message
    assert str(path) in message
    for form in _secret_forms(SECRET):
        assert form not in message
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_invalid_utf8_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(b"\xff\xfe" + SECRET)
    path.chmod(0o600)
    with pytest.raises(SecretError, match="malformed"):
        load_coalition_key(path)


@pytest.mark.parametrize("length", [0, 16, 31])
def test_short_secret_is_refused(tmp_path: Path, length: int) -> None:
    short = SECRET[:length]
    path = _write(tmp_path / "k", _doc(secret=short))
    with pytest.raises(SecretError, match="fewer than the required 32") as info:
        load_coalition_key(path)
    if length >= 16:
        for form in _secret_forms(short):
            assert form not in str(info.value)
