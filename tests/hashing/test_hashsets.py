import json
from pathlib import Path

import pytest

from safehold.hashing.categories import CategoryMap
from safehold.hashing.hashsets import HashSetError, read_csv_hashes, read_hash_set, read_vics
from safehold.hashing.lookup import HashSetIndex

MD5 = "0123456789abcdef0123456789abcdef"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
PDQ = "f" * 64


def _write(tmp_path: Path, name: str, document: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_vics_1x_reads_string_booleans_and_maps_us_categories(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "v1.json",
        {
            "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
            "value": [
                {"MediaID": 1, "Category": 1, "MD5": MD5.upper(), "IsPrecategorized": "true"},
                {"MediaID": 2, "Category": "2", "SHA1": SHA1, "IsPrecategorized": "false"},
            ],
        },
    )
    entries = list(read_vics(path))
    assert [e.precategorized for e in entries] == [True, False]
    assert entries[0].md5 == MD5
    assert (entries[0].category.raw, entries[0].category.category) == ("1", "us_cam")
    assert entries[1].category.category == "us_exploitive_non_cam"
    assert entries[0].list_name == "v1"


def test_vics_2_uk_profile_maps_to_sentencing_council_categories(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "v2.json",
        {
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media",
            "value": [
                {"MediaID": 7, "Category": 1, "MD5": MD5, "PDQ": PDQ, "IsPrecategorized": True},
                {"MediaID": 8, "Category": 3, "SHA1": SHA1},
                {"MediaID": 9, "Category": 99, "SHA1": SHA1},
            ],
        },
    )
    entries = list(read_vics(path))
    assert [e.category.category for e in entries] == ["uk_a", "uk_c", "unmapped"]
    assert [e.category.severity for e in entries] == [3, 1, 0]
    assert entries[2].category.raw == "99"
    assert entries[0].pdq == PDQ


def test_vics_2_cases_documents_stream_the_nested_media(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "cases.json",
        {
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
            "value": [{"CaseID": 1, "Media": [{"MediaID": 1, "Category": 1, "MD5": MD5}]}],
        },
    )
    assert [e.md5 for e in read_vics(path)] == [MD5]


def test_configured_category_tables_replace_the_defaults(tmp_path: Path) -> None:
    config = {
        "profiles": {"X": {"1": {"category": "local_one", "severity": 2}}},
        "versions": {"2": {"Default": "X"}},
    }
    path = _write(
        tmp_path,
        "v2.json",
        {
            "@odata.context": "http://x/DataModels/2.0.xml/Default/$metadata#Media",
            "value": [{"MediaID": 1, "Category": 1, "MD5": MD5}],
        },
    )
    (entry,) = read_vics(path, categories=CategoryMap(config))
    assert (entry.category.category, entry.category.profile) == ("local_one", "X")


def test_truncated_or_malformed_vics_names_the_file_and_record(tmp_path: Path) -> None:
    good = '{"odata.metadata": "http://x/DataModels/1.2.xml#Media", "value": ['
    truncated = tmp_path / "cut.json"
    truncated.write_text(good + '{"MediaID": 1, "MD5": "' + MD5 + '"}, {"MediaID": 2')
    with pytest.raises(HashSetError, match=r"cut\.json.*breaks off"):
        list(read_vics(truncated))
    bad = tmp_path / "bad.json"
    bad.write_text(good + '{"MediaID": 5, "MD5": "xyz"}]}')
    with pytest.raises(HashSetError, match=r"media record 1 \(MediaID 5\).*32 hex"):
        list(read_vics(bad))
    plain = _write(tmp_path, "plain.json", {"value": []})
    with pytest.raises(HashSetError, match="odata"):
        list(read_vics(plain))


def test_csv_lists_and_exact_and_near_lookup(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    near = "0" + "f" * 63  # 4 bits from PDQ
    path.write_text(f"MD5,pdq,category\n{MD5},{PDQ},1\n,{near},3\n")
    entries = list(read_csv_hashes(path, profile="UK"))
    assert [e.category.category for e in entries] == ["uk_a", "uk_c"]
    index = HashSetIndex(read_hash_set(path))
    assert [e.category.raw for e in index.exact("md5", MD5.upper())] == ["1"]
    assert index.exact("md5", "f" * 32) == []
    (matches,) = index.near([PDQ])
    assert [(m.distance, m.entry.category.raw) for m in matches] == [(0, "1"), (4, "3")]
    with pytest.raises(HashSetError, match="unknown category profile 'XX'"):
        list(read_csv_hashes(path, profile="XX"))
    bad = tmp_path / "bad.csv"
    bad.write_text("md5\nnot-a-hash\n")
    with pytest.raises(HashSetError, match=r"line 2"):
        list(read_csv_hashes(bad))
