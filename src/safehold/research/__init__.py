"""The research enclave's studies: reading pooled, source-blinded cohort data, matched
case-control cohorts, the pre-registration a study cannot start without, logistic-regression
and LightGBM models under grouped and leave-one-platform-out validation, intervals, the
permutation test, SHAP explanations, the fairness audit, output checks, the release gate,
the model card and, only when the gate allows it, the model artifact.

May import ``safehold.exchange``, ``safehold.identity`` and ``safehold.privacy``.
"""
