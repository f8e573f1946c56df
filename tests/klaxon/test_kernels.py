"""The compiled walks against plain Python readings of the same rules, on random frames
shaped as the engine gives them: pairs together, each pair's rows in time order, senders
shared between pairs, times on both sides of 1970 and often tied."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.klaxon import alert_ids, engine, kernels
from safehold.klaxon.engine import screen
from safehold.klaxon.rules import load_rules
from tests.klaxon.builders import T0, event, flags, prepared


@dataclass
class Frame:
    pair: np.ndarray
    sender: np.ndarray
    check: np.ndarray
    t: np.ndarray
    on: np.ndarray
    bits: np.ndarray


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    pairs = draw(st.integers(0, 12))
    senders = draw(st.integers(1, 4))
    pair, sender, check, t, on, bits = [], [], [], [], [], []
    for p in range(pairs):
        s = draw(st.integers(0, senders - 1))
        times = sorted(draw(st.lists(st.integers(-40, 60), min_size=1, max_size=8)))
        for at in times:
            pair.append(p)
            sender.append(s * 7919)
            check.append(s % 2)  # two senders may share a hash but not its check
            t.append(at)
            on.append(draw(st.booleans()))
            bits.append(draw(st.integers(0, 15)))
    return Frame(
        np.array(pair, dtype=np.int64),
        np.array(sender, dtype=np.uint64),
        np.array(check, dtype=np.uint64),
        np.array(t, dtype=np.int64),
        np.array(on, dtype=np.bool_),
        np.array(bits, dtype=np.int64),
    )


def _on_rows(f: Frame) -> list[int]:
    return [i for i in range(len(f.t)) if f.on[i]]


@given(frames(), st.integers(1, 30), st.integers(2, 4))
def test_fan_out_counts_distinct_children_per_sender_and_bucket(
    f: Frame, within: int, least: int
) -> None:
    children: dict[tuple[int, int, int], set[int]] = defaultdict(set)
    for i in _on_rows(f):
        children[(int(f.sender[i]), int(f.check[i]), int(f.t[i]) // within)].add(int(f.pair[i]))
    expected = [
        bool(f.on[i])
        and len(children[(int(f.sender[i]), int(f.check[i]), int(f.t[i]) // within)]) >= least
        for i in range(len(f.t))
    ]
    got = kernels.fan_out(f.pair, f.sender, f.check, f.t, f.on, within, least)
    assert got.tolist() == expected


@given(frames(), st.integers(1, 3), st.integers(0, 40))
def test_repeated_reads_the_pairs_own_earlier_rows_among_those_counted(
    f: Frame, back: int, within: int
) -> None:
    rows = _on_rows(f)
    expected = [False] * len(f.t)
    for place, i in enumerate(rows):
        if place >= back:
            j = rows[place - back]
            expected[i] = bool(f.pair[j] == f.pair[i] and f.t[i] - f.t[j] <= within)
    assert kernels.repeated(f.pair, f.t, f.on, back, within).tolist() == expected


@given(frames(), st.integers(2, 4), st.floats(0.1, 0.95), st.integers(0, 10), st.integers(0, 80))
def test_escalating_needs_each_gap_to_shrink(
    f: Frame, gaps: int, ratio: float, first_gap: int, within: int
) -> None:
    rows = _on_rows(f)
    expected = [False] * len(f.t)
    for place, i in enumerate(rows):
        if place < gaps:
            continue
        times = [int(f.t[rows[place - j]]) for j in range(gaps + 1)]  # times[0] is row i
        gap = [times[j] - times[j + 1] for j in range(gaps)]  # gap[0] is the latest
        expected[i] = (
            f.pair[rows[place - gaps]] == f.pair[i]
            and times[0] - times[gaps] <= within
            and gap[gaps - 1] >= first_gap
            and all(gap[j] <= ratio * gap[j + 1] for j in range(gaps - 1))
        )
    got = kernels.escalating(f.pair, f.t, f.on, gaps, ratio, first_gap, within)
    assert got.tolist() == expected


@given(frames(), st.integers(1, 50), st.integers(1, 30))
def test_runs_are_pair_and_window_with_their_severity(f: Frame, window: int, alert_at: int) -> None:
    severities = np.array([5, 10, 20, 40], dtype=np.int64)
    expected = []
    i, n = 0, len(f.t)
    while i < n:
        start = int(f.t[i]) // window * window
        end, mask = i, 0
        while end < n and f.pair[end] == f.pair[i] and int(f.t[end]) // window * window == start:
            mask |= int(f.bits[end])
            end += 1
        severity = sum(int(s) for b, s in enumerate(severities) if mask >> b & 1)
        if severity >= alert_at:
            expected.append((i, start, int(f.t[end - 1]), end - i, mask, severity))
        i = end
    runs = kernels.alerting_runs(f.pair, f.t, f.bits, window, severities, alert_at)
    got = list(
        zip(
            *(runs[k].tolist() for k in ("_first", "_w", "_last_t", "events", "_mask", "severity")),
            strict=True,
        )
    )
    assert got == expected


def test_empty_input_gives_empty_output() -> None:
    empty_i, empty_u, empty_b = (np.empty(0, dtype=d) for d in (np.int64, np.uint64, np.bool_))
    assert kernels.fan_out(empty_i, empty_u, empty_u, empty_i, empty_b, 10, 2).shape == (0,)
    assert kernels.repeated(empty_i, empty_i, empty_b, 1, 10).shape == (0,)
    assert kernels.escalating(empty_i, empty_i, empty_b, 2, 0.5, 1, 10).shape == (0,)
    runs = kernels.alerting_runs(empty_i, empty_i, empty_i, 10, np.array([1]), 1)
    assert all(v.shape == (0,) for v in runs.values())


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 1), st.integers(0, 5)),
        max_size=16,
    )
)
def test_pairs_are_grouped_in_time_order_and_collisions_and_ties_noticed(
    rows: list[tuple[int, int, int, int]],
) -> None:
    """(sender, recipient, check, time): the check stands for both second hashes, so that
    a pair with two checks is a collision."""
    rows.sort(key=lambda r: r[3])  # in time order, as the engine gives them
    sender, recipient, check = (np.array([r[i] for r in rows], np.uint64) for i in range(3))
    t = np.array([r[3] for r in rows], dtype=np.int64)
    first_seen = list(dict.fromkeys((r[0], r[1]) for r in rows))  # pairs as they appear
    order = sorted(range(len(rows)), key=lambda i: (first_seen.index(rows[i][:2]), i))
    numbers = [first_seen.index(rows[i][:2]) + 1 for i in order]
    checks: dict[tuple[int, int], set[int]] = defaultdict(set)
    for s, r, c, _ in rows:
        checks[(s, r)].add(c)
    collided = any(len(c) > 1 for c in checks.values())
    tied = any(
        rows[a][:2] == rows[b][:2] and rows[a][3] == rows[b][3]
        for a, b in itertools.pairwise(order)
    )
    got_order, pair, got_collided, got_tied = kernels.group_pairs(
        sender, recipient, check, np.zeros_like(check), t
    )
    assert got_order.tolist() == order
    assert (pair.tolist(), got_collided, got_tied) == (numbers, collided, tied)


def test_a_pair_and_its_reverse_are_two_pairs() -> None:
    one, two = np.array([1], np.uint64), np.array([2], np.uint64)
    both = np.concatenate([one, two]), np.concatenate([two, one])
    _, pair, collided, _ = kernels.group_pairs(
        *both, np.zeros(2, np.uint64), np.zeros(2, np.uint64), np.arange(2)
    )
    assert pair.tolist() == [1, 2] and not collided


def test_warm_compiles_what_the_engine_then_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``warm`` the engine's calls, by both ways, compile nothing more (a worker's
    first message would otherwise wait for a compile)."""
    engine.warm()
    walks = (kernels._fan_out, kernels._repeated, kernels._escalating, kernels._runs)
    passes = (*walks, kernels._group_pairs, kernels._view_codes, alert_ids._alert_digests)
    compiled = [len(w.signatures) for w in passes]
    rows = [event("a", f"kid{i}", T0 + timedelta(hours=i)) for i in range(6)]
    rows += [event("b", "kid0", T0 + timedelta(days=d, hours=2)) for d in range(4)]
    events = prepared(rows)
    marked = flags(tmp_path, registry=("a",), minors={"kid0": "under_13"})
    assert screen(events, marked, load_rules()).height > 0
    monkeypatch.setattr(engine, "_hashed_features", lambda *args, **kwargs: None)
    assert screen(events, marked, load_rules()).height > 0
    assert [len(w.signatures) for w in passes] == compiled


def test_without_a_writable_cache_place_the_walks_cache_in_a_private_temporary_folder(
    tmp_path: Path,
) -> None:
    """numba finds no place to cache (as for a read-only install run without a writable
    home): the klaxon still imports, screens, and caches under the temporary folder."""
    env = {
        **os.environ,
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
        "TMPDIR": str(tmp_path),
    }
    env.pop("NUMBA_CACHE_DIR", None)
    script = (
        "import numba\n"
        "from safehold.klaxon import kernels\n"
        "kernels.warm()\n"
        "print(numba.config.CACHE_DIR)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path
    assert folder.stat().st_mode & 0o077 == 0
    assert list(folder.rglob("*.nbi"))  # the walks were cached there
