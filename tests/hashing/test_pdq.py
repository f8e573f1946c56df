import csv
from pathlib import Path

import pytest

from safehold.hashing.pdq import hamming, pdq_of_file
from safehold.synth.images import edited, jpeg_bytes, shapes_image

PUBLIC = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "public" / "pdq"
UPSTREAM_TOLERANCE = 16


def _expected() -> list[tuple[str, str]]:
    path = PUBLIC / "expected_pdq.csv"
    if not path.exists():
        return []
    with path.open() as handle:
        return [(row["path"], row["pdq_hex"]) for row in csv.DictReader(handle)]


@pytest.mark.skipif(not _expected(), reason="public PDQ test data not present")
@pytest.mark.parametrize("reduced", [True, False])
def test_pdq_matches_the_reference_hashes_within_upstream_tolerance(reduced: bool) -> None:
    distances = {
        name: hamming(pdq_of_file(PUBLIC / name, reduced=reduced).hex, expected)
        for name, expected in _expected()
    }
    assert len(distances) == 18
    too_far = {k: d for k, d in distances.items() if d > UPSTREAM_TOLERANCE}
    assert not too_far


def test_reduced_decoding_stays_close_to_full_decoding(tmp_path: Path) -> None:
    path_bytes = jpeg_bytes(shapes_image(3, 3000, 2000))
    path = tmp_path / "big.jpg"
    path.write_bytes(path_bytes)
    assert hamming(pdq_of_file(path).hex, pdq_of_file(path, reduced=False).hex) <= 8


def test_a_file_that_is_not_an_image_raises(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not an image")
    with pytest.raises(OSError, match="cannot identify image"):
        pdq_of_file(path)


@pytest.mark.parametrize("edit", ["resize", "crop", "re-encode"])
def test_edited_copies_stay_near_the_original(tmp_path: Path, edit: str) -> None:
    original = shapes_image(11)
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(original))
    (tmp_path / "b.jpg").write_bytes(jpeg_bytes(edited(original, edit), quality=60))
    distance = hamming(pdq_of_file(tmp_path / "a.jpg").hex, pdq_of_file(tmp_path / "b.jpg").hex)
    assert distance <= 31
    other = tmp_path / "c.jpg"
    other.write_bytes(jpeg_bytes(shapes_image(12)))
    assert hamming(pdq_of_file(tmp_path / "a.jpg").hex, pdq_of_file(other).hex) > 31
