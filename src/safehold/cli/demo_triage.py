"""The demo's device-triage step: synthetic devices triaged and ranked into a case queue."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from safehold.cli.console import console
from safehold.cli.triage import print_queue
from safehold.synth.devices import generate_devices, standard_specs
from safehold.triage.queue import average_precision, rank
from safehold.triage.report import write_report
from safehold.triage.run import load_hash_sets, triage_device


def run_triage_demo(data_dir: Path, *, serious: int = 2, others: int = 4, seed: int = 7) -> None:
    """Write synthetic devices under ``data_dir/demo-devices``, triage each into
    ``data_dir/demo-triage/<device>``, and print the queue with its rank measure."""
    devices_dir, results_dir = data_dir / "demo-devices", data_dir / "demo-triage"
    for folder in (devices_dir, results_dir):
        shutil.rmtree(folder, ignore_errors=True)  # both are the demo's own output
    started = time.perf_counter()
    with console.status("generating synthetic Android and iOS extractions"):
        truths = generate_devices(devices_dir, standard_specs(serious, others), seed=seed)
    index = load_hash_sets([devices_dir / "known_hashes.json"])
    reports = []
    with console.status("triaging"):
        for truth in truths:
            report = triage_device(devices_dir / "devices" / truth.device_id, hash_index=index)
            write_report(report, results_dir / truth.device_id)
            reports.append((results_dir / truth.device_id, report))
    ranked = rank(reports)
    print_queue(ranked)
    planted = {t.device_id for t in truths if t.serious}
    ap = average_precision([e.report.device for e in ranked], planted)
    console.print(
        f"{len(truths)} synthetic devices triaged in {time.perf_counter() - started:.1f}s; the "
        f"{len(planted)} with planted material rank with average precision {ap:.2f}. Reports: "
        f"{results_dir}/<device>/report.html; devices and hash set: {devices_dir}",
        soft_wrap=True,
    )
