"""The research enclave's studies: reading pooled, source-blinded cohort data (from a
synthetic world or a hub enclave export), probabilistic linkage of cohort labels to
platform accounts (Splink on DuckDB; scores never leave ``linkage``), matched
case-control cohorts, the pre-registration a study cannot start without, logistic-regression
and LightGBM models under grouped and leave-one-platform-out validation, intervals, the
permutation test, SHAP explanations, the fairness audit, output checks, the release gate,
the model card and, only when the gate allows it, the model artifact.

May import ``safehold.exchange``, ``safehold.identity`` and ``safehold.privacy``.
"""
