"""The member side of the wire: turning prepared exchange-format Parquet into batch files
(NDJSON, gzip), submitting batches to the hub with resume after a failure and no duplicates
(httpx), and running registry checks for a file of the member's accounts. It runs on the
member's machines and may import ``exchange`` only: it never sees the hub's internals."""
