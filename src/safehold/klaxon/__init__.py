"""Contact screening (the klaxon): a member's flag store (sender flags from registry matches
and released-model scores, recipient markers for minors and the vulnerable-child cohort),
declarative YAML rules with severities and plain-words reasons, alert identities that make a
replay harmless, and one vectorised engine (Polars for the column work, numba-compiled walks
down the pair-sorted rows in ``kernels`` for the rules that read earlier events) run three
ways (a batch over a Parquet file, an in-process stream of micro-batches, and stream
adapters). It may import ``exchange`` (age bands, channels) and ``conversation``
(conversation risk scores) only."""
