"""Contact screening (the klaxon): a member's flag store (sender flags from registry matches
and released-model scores, recipient markers for minors and the vulnerable-child cohort),
declarative YAML rules with severities and plain-words reasons, alert identities that make a
replay harmless (``alert_ids``: BLAKE2b-128 of the alert's key, compiled for a batch), and
one vectorised engine (Polars for the column work; numba-compiled passes in ``kernels`` for
reading age bands off Arrow's string views, looking flags up by an index made once per
flags load, grouping candidates by pair, and the walks down each pair's rows for the rules
that read earlier events) run three ways (a batch over a Parquet file, an in-process stream
of micro-batches, and stream adapters). It may import ``exchange`` (age bands, channels) and
``conversation`` (conversation risk scores) only."""
