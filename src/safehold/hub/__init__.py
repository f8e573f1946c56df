"""The coalition hub: a FastAPI service with versioned routes under ``/v1`` for member
administration, batch ingest, registry checks, platform signals and contact screening
into the alerts tier (with ``klaxon``), decisions for members' systems (API and signed
webhook), the web UI for reviewers and auditors (``hub.web``), API-key
authentication, one policy table that decides which role may call which route and write
which record type, and the audit of every request that touches personal data. It may
import every package of ours except ``synth`` and ``cli``; storage goes through ``store``."""
