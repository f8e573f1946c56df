"""The hub's storage: SQLAlchemy 2 models for members, users, API keys, batches and the five
data tiers (registry, signals, enclave, alerts, cases), Alembic migrations, bulk ingest,
registry look-ups, the signals change log, enclave export with source blinding, and the
hash-chained audit log. It runs on SQLite (the embedded default, a file under the data
directory) and on PostgreSQL (``SAFEHOLD_DATABASE_URL``). It may import ``exchange`` only;
who may do what is decided by the hub, which calls in here."""
