import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safehold.triage.archives import open_extraction
from safehold.triage.extraction import Limits, member_problem, read_folder, relative_name


def _scratch(tmp_path: Path) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True)
    return scratch


def _reasons(extraction) -> dict[str, str]:
    return {n.path: n.reason for n in extraction.not_processed}


def _mark_encrypted(archive: Path, name: bytes) -> None:
    """Set the 'encrypted' flag of one member in the central directory, as a zip made
    with a password would have it."""
    data = bytearray(archive.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        extra = int.from_bytes(data[at + 30 : at + 32], "little")
        comment = int.from_bytes(data[at + 32 : at + 34], "little")
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            data[at + 8] |= 0x1
            break
        at += 46 + name_length + extra + comment
    archive.write_bytes(bytes(data))


def test_zip_refuses_escaping_encrypted_and_linked_members(tmp_path: Path) -> None:
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sdcard/DCIM/a.txt", "fine")
        zf.writestr("../../evil.txt", "escape")
        zf.writestr("/etc/evil.txt", "absolute")
        zf.writestr("secret/locked.txt", "pretend ciphertext")
        link = zipfile.ZipInfo("sdcard/link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    _mark_encrypted(archive, b"secret/locked.txt")
    before = archive.read_bytes()
    scratch = _scratch(tmp_path)
    extraction = open_extraction(archive, scratch)
    assert set(extraction.entries) == {"sdcard/DCIM/a.txt"}
    reasons = _reasons(extraction)
    assert "traversal" in reasons["../../evil.txt"]
    assert "absolute" in reasons["/etc/evil.txt"]
    assert "encrypted" in reasons["secret/locked.txt"]
    assert "link" in reasons["sdcard/link"]
    assert not (tmp_path / "evil.txt").exists()
    assert all(p.resolve().is_relative_to(scratch.resolve()) for p in scratch.rglob("*"))
    assert archive.read_bytes() == before


def test_zip_bomb_is_stopped_by_ratio_and_by_counted_size(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\x00" * (20 << 20))
        zf.writestr("ok.txt", "small")
    extraction = open_extraction(archive, _scratch(tmp_path))
    assert "zip bomb" in _reasons(extraction)["zeros.bin"]
    assert "ok.txt" in extraction.entries
    capped = open_extraction(
        archive, _scratch(tmp_path / "b"), Limits(max_ratio=1e9, max_total_bytes=1 << 20)
    )
    assert "cap" in _reasons(capped)["zeros.bin"]
    assert not (tmp_path / "b" / "scratch" / "zeros.bin").exists()


def _tar_add(tf: tarfile.TarFile, name: str, data: bytes = b"x", **fields: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if not fields else 0
    for key, value in fields.items():
        setattr(info, key, value)
    tf.addfile(info, io.BytesIO(data) if not fields else None)


def test_tar_refuses_traversal_and_links_out_and_survives_truncation(tmp_path: Path) -> None:
    archive = tmp_path / "phone.tar"
    with tarfile.open(archive, "w") as tf:
        _tar_add(tf, "data/ok.txt", b"hello")
        _tar_add(tf, "data/../../up.txt")
        _tar_add(tf, "data/out", type=tarfile.SYMTYPE, linkname="../../../etc/passwd")
        _tar_add(tf, "data/in", type=tarfile.SYMTYPE, linkname="ok.txt")
        _tar_add(tf, "data/big.bin", b"y" * 50_000)
    extraction = open_extraction(archive, _scratch(tmp_path))
    reasons = _reasons(extraction)
    assert set(extraction.entries) == {"data/ok.txt", "data/big.bin"}
    assert "traversal" in reasons["data/../../up.txt"]
    assert "outside" in reasons["data/out"]
    assert "not followed" in reasons["data/in"]
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:20_000])  # inside big.bin
    truncated = open_extraction(cut, _scratch(tmp_path / "t"))
    assert "data/ok.txt" in truncated.entries
    assert any("truncated" in n.reason for n in truncated.not_processed)


def test_folder_links_pointing_out_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "device"
    root.mkdir()
    (root / "a.txt").write_text("a")
    outside = tmp_path / "outside.txt"
    outside.write_text("not evidence")
    os.symlink(outside, root / "escape")
    extraction = read_folder(root)
    assert set(extraction.entries) == {"a.txt"}
    assert "outside" in _reasons(extraction)["escape"]


def test_unknown_files_and_missing_extractions(tmp_path: Path) -> None:
    odd = tmp_path / "notes.bin"
    odd.write_bytes(b"\x00" * 100)
    extraction = open_extraction(odd, _scratch(tmp_path))
    assert "not a folder, zip or tar" in extraction.not_processed[0].reason
    with pytest.raises(FileNotFoundError, match="no such extraction"):
        open_extraction(tmp_path / "missing", tmp_path)


EWF = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "public" / "ewf"


@pytest.mark.skipif(not EWF.exists(), reason="public EWF test images not present")
def test_e01_images_are_read_through_dfvfs_without_following_links(tmp_path: Path) -> None:
    pytest.importorskip("dfvfs")
    image = tmp_path / "ext2.E01"
    image.write_bytes((EWF / "ext2.E01").read_bytes())
    before = image.read_bytes()
    extraction = open_extraction(image, _scratch(tmp_path))
    assert extraction.kind == "disk_image"
    assert set(extraction.entries) == {
        "passwords.txt",
        "a_directory/a_file",
        "a_directory/another_file",
    }
    assert extraction.entries["passwords.txt"].size == 116
    assert "not followed" in _reasons(extraction)["a_link"]
    assert image.read_bytes() == before
    cut = tmp_path / "cut.E01"
    cut.write_bytes(before[:2000])
    damaged = open_extraction(cut, _scratch(tmp_path / "c"))
    assert not damaged.entries
    assert "could not be read" in damaged.not_processed[0].reason


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "..", ".", "", "b c", "/", "\\", "C:", "x.."]), max_size=6))
def test_accepted_member_names_never_leave_the_scratch_directory(parts: list[str]) -> None:
    name = "/".join(parts)
    if member_problem(name) is not None:
        return
    scratch = Path("/scratch/root")
    target = (scratch / relative_name(name)).resolve()
    assert target.is_relative_to(scratch)
    assert ".." not in relative_name(name).split("/")
