"""The release gate: a model goes to members only if the study found a signal, the flag is
useful at the real-world prevalence (the lower end of the PPV interval reaches the
pre-registered minimum), and the pre-registered fairness measure is within its bound in
every audited group column. Otherwise the reasons are stated and nothing is released."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from safehold.research.evaluation import Estimate
from safehold.research.fairness import MEASURE_WORDS, GroupAudit
from safehold.research.permutation import PermutationResult
from safehold.research.prereg import PreRegistration


@dataclass
class GateDecision:
    released: bool
    reasons: list[str] = field(default_factory=list)  # why not (empty when released)
    checks: list[str] = field(default_factory=list)  # what passed

    def to_json(self) -> dict[str, Any]:
        return {
            "released": self.released,
            "reasons_refused": self.reasons,
            "checks_passed": self.checks,
        }


def decide(
    prereg: PreRegistration,
    permutation: PermutationResult,
    ppv: Estimate,
    audits: Sequence[GroupAudit],
) -> GateDecision:
    refused: list[str] = []
    passed: list[str] = []
    if permutation.p_value >= prereg.alpha:
        refused.append(
            f"no distinctive signal: the permutation test did not reject (p = {permutation.p_value:.3f}, "
            f"alpha {prereg.alpha})"
        )
    else:
        passed.append(
            f"signal present (permutation p = {permutation.p_value:.3f} < {prereg.alpha})"
        )
    if ppv.low < prereg.minimum_ppv:
        refused.append(
            f"not useful enough: at a prevalence of {prereg.prevalence:.2%} the PPV is {ppv.value:.1%} "
            f"(95% interval {ppv.low:.1%} to {ppv.high:.1%}); the pre-registered minimum is "
            f"{prereg.minimum_ppv:.1%} and the interval's lower end must reach it"
        )
    else:
        passed.append(
            f"PPV {ppv.value:.1%} (lower end {ppv.low:.1%}) meets {prereg.minimum_ppv:.1%}"
        )
    measure = prereg.fairness_priority.value
    for audit in audits:
        if measure not in audit.ratios:
            refused.append(
                f"fairness by {audit.column} could not be judged: fewer than two groups large enough"
            )
            continue
        ratio = audit.ratios[measure]
        if ratio < prereg.fairness_minimum_ratio:
            gap = next((d for d in audit.disparities if d.measure == measure), None)
            refused.append(
                f"unfair by {audit.column.replace('_', ' ')}: the smallest group's share "
                f"{MEASURE_WORDS[measure]} is only {ratio:.2f} of the largest's, below the "
                f"pre-registered {prereg.fairness_minimum_ratio:.2f}"
                + (f". {gap.words()}" if gap else "")
            )
        else:
            passed.append(
                f"{measure} ratio by {audit.column} {ratio:.2f} >= {prereg.fairness_minimum_ratio}"
            )
    return GateDecision(released=not refused, reasons=refused, checks=passed)
