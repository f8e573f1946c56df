"""The early-warning policy: when a conversation first deserves a reviewer's eyes.

Why k of n: one odd message is noise, but two flagged messages among the last five from
the adult side is a pattern worth a look even before the conversation risk is high. A
warning is raised at the first message where the conversation risk reaches the model's
threshold, or where k of the last n messages are flagged and the risk has reached at least
``floor`` times the threshold (so two flagged lines in an otherwise benign chat do not
warn on their own).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class WarningPolicy:
    k: int = 2
    n: int = 5
    floor: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise ValueError(f"warning policy needs 1 <= k <= n, got k={self.k}, n={self.n}")
        if not 0.0 <= self.floor <= 1.0:
            raise ValueError(f"warning policy floor must be in [0, 1], got {self.floor}")

    def batch(self, start: Ints, flag: Bools, risk: Floats, threshold: float) -> Bools:
        """Per message (rows sorted by conversation then time; ``start`` is each row's
        conversation start index): does the policy warn after this message?"""
        f = flag.astype(np.int64)
        total = np.cumsum(f)
        before_start = total[start] - f[start]
        index = np.arange(flag.shape[0])
        back = index - self.n
        outside = np.where(back >= start, total[np.maximum(back, 0)], before_start)
        recent = total - outside
        return (risk >= threshold) | ((recent >= self.k) & (risk >= self.floor * threshold))

    def window(self) -> WarningWindow:
        return WarningWindow(self)


@dataclass
class WarningWindow:
    """The incremental form of ``WarningPolicy.batch`` for one conversation."""

    policy: WarningPolicy
    recent: deque[bool] = field(default_factory=deque)

    def update(self, flag: bool, risk: float, threshold: float) -> bool:
        self.recent.append(flag)
        if len(self.recent) > self.policy.n:
            self.recent.popleft()
        if risk >= threshold:
            return True
        return sum(self.recent) >= self.policy.k and risk >= self.policy.floor * threshold
