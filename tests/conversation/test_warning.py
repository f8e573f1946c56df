"""The k-of-n warning policy: batch and incremental forms agree."""

from __future__ import annotations

import numpy as np
import pytest

from safehold.conversation.warning import WarningPolicy


def test_two_of_five_flags_warn_once_risk_reaches_the_floor() -> None:
    policy = WarningPolicy(k=2, n=5, floor=0.5)
    flags = [True, False, False, False, False, True, True]
    risks = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.45]
    window = policy.window()
    warns = [window.update(f, r, threshold=0.8) for f, r in zip(flags, risks, strict=True)]
    # message 6 is the 2nd flag but the 1st dropped out of the window of five;
    # message 7 makes two of five and the risk 0.45 >= 0.5 * 0.8.
    assert warns == [False] * 6 + [True]


def test_risk_over_threshold_warns_without_flags() -> None:
    window = WarningPolicy().window()
    assert window.update(False, 0.9, threshold=0.8)


def test_batch_equals_incremental_across_conversations() -> None:
    rng = np.random.default_rng(1)
    policy = WarningPolicy(k=2, n=4, floor=0.5)
    sizes = [1, 7, 12, 3]
    group = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    start = np.repeat(starts, sizes)
    flag = rng.random(group.size) < 0.4
    risk = rng.random(group.size)
    batch = policy.batch(start, flag, risk, 0.7)
    expected = []
    for lo, n in zip(starts, sizes, strict=True):
        window = policy.window()
        expected += [window.update(bool(flag[i]), float(risk[i]), 0.7) for i in range(lo, lo + n)]
    assert batch.tolist() == expected


def test_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="k <= n"):
        WarningPolicy(k=6, n=5)
