import hashlib
import json
from pathlib import Path

import pytest

from safehold.synth.devices import DeviceSpec, generate_devices, standard_specs


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_layouts_like_real_phones(tmp_path: Path) -> None:
    specs = standard_specs(2, 1)
    generate_devices(tmp_path / "a", specs, seed=4, known_count=10)
    generate_devices(tmp_path / "b", specs, seed=4, known_count=10)
    assert _digest_tree(tmp_path / "a") == _digest_tree(tmp_path / "b")
    files = set(_digest_tree(tmp_path / "a"))
    assert (
        "devices/device-000/data/data/com.android.providers.telephony/databases/mmssms.db" in files
    )
    assert "devices/device-001/private/var/mobile/Library/SMS/sms.db" in files
    hash_set = json.loads((tmp_path / "a" / "known_hashes.json").read_text())
    assert hash_set["@odata.context"].endswith("2.0.xml/UK/$metadata#Media")
    assert {m["IsPrecategorized"] for m in hash_set["value"]} == {"true"}


def test_planted_copies_and_unknown_platforms(tmp_path: Path) -> None:
    spec = DeviceSpec("d", "android", True, known_copies=2, near_copies=3, grooming_conversations=1)
    (truth,) = generate_devices(tmp_path, [spec], seed=1, known_count=10)
    assert len(truth.known_copies) == 2 and len(truth.near_copies) == 3
    assert truth.grooming_conversations == 1
    bad = DeviceSpec("x", "symbian", False)
    with pytest.raises(ValueError, match="platform"):
        generate_devices(tmp_path / "x", [bad], seed=1, known_count=2)
