"""How fast a member can pseudonymise an identifier column.

Ours is ``Pseudonymiser.pseudonymise_many`` (normalise, then HMAC-SHA256 under the
per-version subkey, repeated values computed once). Two baselines run in the same process
on the same values: bare SHA-256 (the floor: no key, no normalisation) and calling
``pseudonymise`` once per value (the obvious loop, which builds a SubjectRef each time).
Machines here are shared, so the ratios are the figures to read.

    python benchmarks/pseudonyms.py [--values 300000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time

from rich.console import Console
from rich.table import Table

from safehold.identity import CoalitionKey, Pseudonymiser


def _time(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=300_000)
    args = parser.parse_args()
    values = [f"Person.{i}@Example{i % 97}.org" for i in range(args.values)]
    pseudonymiser = Pseudonymiser(CoalitionKey(version=1, secret=b"s" * 32))

    bare = _time(lambda: [hashlib.sha256(v.encode()).hexdigest() for v in values])
    ours = _time(lambda: pseudonymiser.pseudonymise_many("email", values))
    loop_sample = values[: max(1, args.values // 10)]
    loop = _time(lambda: [pseudonymiser.pseudonymise("email", v) for v in loop_sample]) * (
        len(values) / len(loop_sample)
    )

    figures = {
        "values": args.values,
        "ours_per_s": round(args.values / ours),
        "bare_sha256_per_s": round(args.values / bare),
        "per_value_loop_per_s": round(args.values / loop),
        "ours_cost_vs_bare_sha256": round(ours / bare, 2),
        "speedup_vs_per_value_loop": round(loop / ours, 2),
    }
    table = Table(title=f"pseudonymising {args.values:,} emails")
    table.add_column("method")
    table.add_column("values/s", justify="right")
    table.add_row("ours: pseudonymise_many", f"{figures['ours_per_s']:,}")
    table.add_row("baseline: pseudonymise per value", f"{figures['per_value_loop_per_s']:,}")
    table.add_row("floor: bare SHA-256, no key", f"{figures['bare_sha256_per_s']:,}")
    Console().print(table)
    print(json.dumps({"benchmark": "pseudonyms", "figures": figures}))


if __name__ == "__main__":
    main()
