"""How fast `safehold synth world` makes people, and how much memory it needs.

Target (issue 2): 1,000,000 people in under 2 minutes on one core, under 4 GB peak memory.
Ours runs as a child process pinned to one core (taskset, POLARS_MAX_THREADS=1), so its wall
time and peak RSS are its own. The baseline, in the same run, is the straightforward
implementation of the behaviour step (a Python loop per account over the same feature
model); it is timed on a sample, and ours on the same sample, so the ratio is comparable.

    python benchmarks/synth_world.py [--people 1000000] [--sample 20000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from safehold.synth.accounts import generate_accounts
from safehold.synth.behaviour import generate_behaviour
from safehold.synth.behaviour_model import (
    GROUP_FACTOR_LOADING,
    MODELS,
    group_index,
    noise_scale,
    offender_shift,
)
from safehold.synth.config import make_config
from safehold.synth.population import generate_population
from safehold.synth.roster import platforms


def run_world(people: int, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of one `safehold synth world` on one core."""
    env = {
        **os.environ,
        "POLARS_MAX_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "safehold.cli.main",
        "synth",
        "world",
        "--people",
        str(people),
        "--seed",
        "1",
        "--out",
        str(out),
    ]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    started = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    # The largest resident size of any waited-for child: this run is the only child.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024 / 1024


def naive_behaviour(n_accounts: int, effect: float, seed: int) -> list[dict[str, float]]:
    """The baseline: one account at a time, one feature at a time, in plain Python."""
    rnd = random.Random(seed)
    groups = group_index().tolist()
    noise = noise_scale().tolist()
    shift = offender_shift(effect).tolist()
    rows = []
    for _ in range(n_accounts):
        traits = [rnd.gauss(0, 1) for _ in range(5)]
        factors = [rnd.gauss(0, 1) for _ in range(9)]
        offender = rnd.random() < 0.01
        row: dict[str, float] = {}
        for j, model in enumerate(MODELS):
            z = sum(w * t for w, t in zip(model.loadings, traits, strict=True))
            z += GROUP_FACTOR_LOADING * factors[groups[j]] + noise[j] * rnd.gauss(0, 1)
            if offender:
                z += shift[j]
            x = model.mu + model.scale * z
            if model.transform == "count":
                row[model.name] = max(math.floor(math.exp(x) - 0.5), 0)
            elif model.transform == "fraction":
                row[model.name] = round(1 / (1 + math.exp(-x)), 4)
            else:
                row[model.name] = round(math.exp(x), 2)
        rows.append(row)
    return rows


def ours_behaviour(people: int) -> tuple[float, int]:
    config = make_config(people=people, seed=1)
    rng = np.random.default_rng(1)
    population = generate_population(config, rng)
    accounts = generate_accounts(population, platforms(), rng)
    started = time.perf_counter()
    generate_behaviour(config, population, accounts, rng)
    return time.perf_counter() - started, accounts.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--sample", type=int, default=20_000, help="people for the behaviour-step comparison"
    )
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory(prefix="safehold-bench-") as tmp:
        console.print(f"Generating a world of {args.people:,} people on one core...")
        world_seconds, peak_gib = run_world(args.people, Path(tmp) / "world")

    ours_seconds, accounts = ours_behaviour(args.sample)
    started = time.perf_counter()
    naive_behaviour(accounts, 0.3, seed=1)
    naive_seconds = time.perf_counter() - started

    figures = {
        "people": args.people,
        "world_seconds": round(world_seconds, 2),
        "world_people_per_s": round(args.people / world_seconds),
        "world_peak_rss_gib": round(peak_gib, 3),
        "behaviour_sample_accounts": accounts,
        "behaviour_ours_accounts_per_s": round(accounts / ours_seconds),
        "behaviour_naive_accounts_per_s": round(accounts / naive_seconds),
        "behaviour_speedup": round(naive_seconds / ours_seconds, 1),
        "meets_2_minutes": world_seconds < 120,
        "meets_4_gib": peak_gib < 4,
    }
    table = Table(title="safehold synth world")
    table.add_column("measure")
    table.add_column("ours", justify="right")
    table.add_column("baseline (Python loop)", justify="right")
    table.add_row(
        f"whole world, {args.people:,} people, one core",
        f"{world_seconds:.1f} s ({figures['world_people_per_s']:,} people/s)",
        "",
    )
    table.add_row("peak memory (RSS)", f"{peak_gib:.2f} GiB", "")
    table.add_row(
        f"behaviour step, {accounts:,} accounts",
        f"{figures['behaviour_ours_accounts_per_s']:,} accounts/s",
        f"{figures['behaviour_naive_accounts_per_s']:,} accounts/s",
    )
    table.add_row("speed-up on the behaviour step", f"{figures['behaviour_speedup']}x", "1x")
    console.print(table)
    console.print(
        f"Targets: under 120 s {'met' if figures['meets_2_minutes'] else 'MISSED'}; under 4 GiB {'met' if figures['meets_4_gib'] else 'MISSED'}."
    )
    print(json.dumps({"benchmark": "synth_world", "figures": figures}))


if __name__ == "__main__":
    main()
