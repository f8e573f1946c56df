import hashlib
from pathlib import Path

from safehold.hashing.hashsets import read_csv_hashes
from safehold.hashing.lookup import HashSetIndex
from safehold.hashing.pdq import pdq_of_file
from safehold.synth.images import edited, jpeg_bytes, shapes_image
from safehold.triage.extraction import read_folder
from safehold.triage.media import match_media


def test_exact_matches_from_every_list_and_near_duplicates_of_the_rest(tmp_path: Path) -> None:
    device = tmp_path / "device"
    device.mkdir()
    known = jpeg_bytes(shapes_image(21))
    (device / "copy.jpg").write_bytes(known)
    (device / "edited.jpg").write_bytes(jpeg_bytes(edited(shapes_image(22), "resize"), 60))
    (device / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (device / "other.jpg").write_bytes(jpeg_bytes(shapes_image(23)))
    reference = tmp_path / "ref.jpg"
    reference.write_bytes(jpeg_bytes(shapes_image(22)))
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "a.csv").write_text(f"md5,category\n{hashlib.md5(known).hexdigest()},1\n")
    (lists / "b.csv").write_text(
        f"sha1,pdq,category\n{hashlib.sha1(known).hexdigest()},,2\n,{pdq_of_file(reference).hex},3\n"
    )
    entries = [
        e for name in ("a", "b") for e in read_csv_hashes(lists / f"{name}.csv", profile="UK")
    ]
    results = match_media(read_folder(device), HashSetIndex(entries), workers=2)
    assert sorted((m.path, m.list, m.category) for m in results.hash_matches) == [
        ("copy.jpg", "a", "uk_a"),
        ("copy.jpg", "b", "uk_b"),
    ]
    assert [(n.path, n.list, n.category) for n in results.near_duplicates] == [
        ("edited.jpg", "b", "uk_c")
    ]
    assert results.near_duplicates[0].distance <= 31
    assert [n.path for n in results.not_processed] == ["broken.jpg"]
    assert results.files_hashed == 4
