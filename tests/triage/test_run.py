import base64
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.synth.devices import DeviceTruth
from safehold.triage.queue import average_precision, load_reports, rank
from safehold.triage.report import write_report
from safehold.triage.run import load_hash_sets, triage_device

IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8")


def _triage_all(out: Path, results: Path) -> None:
    index = load_hash_sets([out / "known_hashes.json"])
    for device in sorted((out / "devices").iterdir()):
        write_report(triage_device(device, hash_index=index), results / device.name)


@pytest.fixture(scope="module")
def triaged(
    synthetic_devices: tuple[Path, list[DeviceTruth]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[DeviceTruth]]:
    out, truths = synthetic_devices
    results = tmp_path_factory.mktemp("results")
    _triage_all(out, results)
    return results, truths


def test_report_finds_what_was_planted(triaged: tuple[Path, list[DeviceTruth]]) -> None:
    results, truths = triaged
    planted_near, found_near = 0, 0
    for truth in truths:
        report = json.loads((results / truth.device_id / "report.json").read_text())
        assert {m["path"] for m in report["hash_matches"]} == set(truth.known_copies)
        near_paths = {m["path"] for m in report["near_duplicates"]}
        # PDQ tolerates re-encoding and resizing well, cropping less: some crops may be
        # missed, but nothing that was not planted is ever reported.
        assert near_paths <= set(truth.near_copies)
        resized_or_reencoded = {p for i, p in enumerate(sorted(truth.near_copies)) if i % 3 != 2}
        assert resized_or_reencoded <= near_paths
        planted_near += len(truth.near_copies)
        found_near += len(near_paths)
        assert all(0 <= m["distance"] <= 31 for m in report["near_duplicates"])
        assert all(m["category"].startswith("uk_") for m in report["hash_matches"])
        warned = sum(c["warned"] for c in report["conversations"])
        assert warned >= truth.grooming_conversations
        assert report["messages"] > 0 and report["reasons"]
        assert report["not_processed"] == []
        artifacts = report["artifacts"]
        if truth.platform == "android":
            assert (
                artifacts["android_sms"]["rows"] > 0 and artifacts["whatsapp_android"]["rows"] > 0
            )
            assert artifacts["android_contacts"]["rows"] == len(truth.child_contacts)
        else:
            assert artifacts["ios_sms"]["rows"] > 0 and artifacts["whatsapp_ios"]["rows"] > 0
            assert artifacts["ios_contacts"]["rows"] == len(truth.child_contacts)
    assert found_near / planted_near >= 0.75


def test_queue_ranks_the_planted_serious_devices_first(
    triaged: tuple[Path, list[DeviceTruth]],
) -> None:
    results, truths = triaged
    ranked = rank(load_reports(sorted(results.iterdir())))
    serious = {t.device_id for t in truths if t.serious}
    order = [e.report.device for e in ranked]
    assert set(order[: len(serious)]) == serious
    assert average_precision(order, serious) == 1.0
    assert average_precision(list(reversed(order)), serious) < 0.5


def test_no_report_contains_image_bytes_or_base64_image_data(
    triaged: tuple[Path, list[DeviceTruth]],
) -> None:
    results, _ = triaged
    encoded = [base64.b64encode(s).decode()[:4] for s in IMAGE_SIGNATURES]
    files = [p for p in results.rglob("*") if p.is_file()]
    assert len(files) >= 20
    for path in files:
        data = path.read_bytes()
        assert not any(sig in data for sig in IMAGE_SIGNATURES), path
        text = data.decode("utf-8")
        assert "data:image" not in text and "base64" not in text.lower()
        # JPEG and PNG data in base64 start with these; none may appear as a token.
        for token in text.replace('"', " ").split():
            assert not any(token.startswith(prefix) for prefix in ("/9j/", "iVBORw0KGgo")), path
        assert encoded  # the signatures were checked in raw and encoded form


def test_cli_runs_a_zipped_extraction_and_queues_it(
    synthetic_devices: tuple[Path, list[DeviceTruth]], tmp_path: Path
) -> None:
    out, truths = synthetic_devices
    serious = next(t for t in truths if t.serious)
    device = out / "devices" / serious.device_id
    archive = tmp_path / f"{serious.device_id}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(device.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(device).as_posix())
        zf.writestr("../outside.txt", "escape attempt")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "triage",
            "run",
            str(archive),
            "--out",
            str(tmp_path / "r"),
            "--hashset",
            str(out / "known_hashes.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["extraction_kind"] == "zip"
    assert len(report["hash_matches"]) == len(serious.known_copies)
    assert [n["path"] for n in report["not_processed"]] == ["../outside.txt"]
    assert "<html" in (tmp_path / "r" / "report.html").read_text()
    queued = runner.invoke(app, ["triage", "queue", str(tmp_path / "r")])
    assert queued.exit_code == 0 and serious.device_id in queued.output
    bad = runner.invoke(app, ["triage", "queue", str(tmp_path)])
    assert bad.exit_code == 2 and "no report.json" in bad.output


def test_a_broken_hash_set_stops_before_triage_and_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "set.json"
    broken.write_text(
        '{"@odata.context": "http://x/DataModels/2.0.xml/UK/$metadata#Media", "value": ['
    )
    device = tmp_path / "device"
    device.mkdir()
    result = CliRunner().invoke(
        app, ["triage", "run", str(device), "--out", str(tmp_path / "r"), "--hashset", str(broken)]
    )
    assert result.exit_code == 2
    assert "set.json" in result.output and not (tmp_path / "r").exists()
