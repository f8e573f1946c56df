import hashlib
from pathlib import Path

from safehold.hashing.files import FileDigests, HashFailure, digest_file, digest_files


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_one_read_gives_the_three_digests_hashlib_gives(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # spans several read chunks
    got = digest_file(_write(tmp_path, "a.bin", data))
    assert got.size == len(data)
    assert got.md5 == hashlib.md5(data).hexdigest()
    assert got.sha1 == hashlib.sha1(data).hexdigest()
    assert got.sha256 == hashlib.sha256(data).hexdigest()


def test_parallel_digests_keep_input_order_and_report_unreadable_files(tmp_path: Path) -> None:
    paths = [_write(tmp_path, f"f{i}", bytes([i]) * (i * 1000)) for i in range(12)]
    paths.insert(5, tmp_path / "missing")
    results = list(digest_files(paths, workers=3))
    assert [r.path for r in results] == paths
    failure = results[5]
    assert isinstance(failure, HashFailure)
    assert "could not read" in failure.reason
    for path, result in zip(paths, results, strict=True):
        if path.exists():
            assert isinstance(result, FileDigests)
            assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
