"""A fake hub on ``httpx.MockTransport``: it keeps the wire contract (auth, gzip NDJSON
batches, idempotency by batch id, registry checks) and records what it stored, and it can be
told to fail in the ways a real network and hub fail."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from safehold.exchange import BatchValidationError, validate_batch
from safehold.exchange.ndjson import parse_ndjson_batch

HUB_URL = "http://hub.test"


def make_key(n: int) -> str:
    return f"shk_{n:016x}_secret-{n}"


@dataclass
class FakeHub:
    keys: dict[str, str | None] = field(default_factory=dict)
    """API key -> member id."""
    stored: dict[tuple[str, str], str] = field(default_factory=dict)
    """(member id, batch id) -> content hash."""
    store_count: Counter[str] = field(default_factory=Counter)
    """batch id -> how many times it was newly stored (must never exceed 1)."""
    records: Counter[str] = field(default_factory=Counter)
    registry: dict[tuple[str, str, int], str] = field(default_factory=dict)
    """(kind, pseudonym, key version) -> typology."""
    disclose_typology: bool = False
    bodies: list[bytes] = field(default_factory=list)
    """Every request body as received (decompressed)."""
    batch_requests: int = 0
    check_requests: list[dict[str, Any]] = field(default_factory=list)

    # Faults -------------------------------------------------------------------------------
    down_after: int | None = None
    """After this many batches are newly stored, every batch request fails to connect."""
    lose_answer: set[str] = field(default_factory=set)
    """Batch ids the hub stores and then whose answer is lost (once each)."""
    reject: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    """Batch id -> (status, error body) answered instead of storing."""
    unavailable: int = 0
    """The next n batch requests are answered 503 database_unavailable (nothing stored)."""
    rate_limited: int = 0
    """The next n check requests are answered 429 with Retry-After: 7."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=HUB_URL, transport=self.transport())

    def add_key(self, member_id: str | None, n: int = 1) -> str:
        key = make_key(n)
        self.keys[key] = member_id
        return key

    # Routes -------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ")
        if key not in self.keys:
            return _error(401, "unauthenticated", "missing or unknown API key")
        member_id = self.keys[key]
        body = request.read()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.bodies.append(body)
        path = request.url.path
        if request.method == "GET" and path == "/v1/me":
            return httpx.Response(
                200, json={"key_id": key.split("_")[1], "role": "platform", "member_id": member_id}
            )
        if request.method == "POST" and path == "/v1/batches":
            return self._batch(request, member_id, body)
        if request.method == "POST" and path == "/v1/registry/check":
            return self._check(body)
        return _error(404, "not_found", "no such route")

    def _batch(self, request: httpx.Request, member_id: str | None, body: bytes) -> httpx.Response:
        self.batch_requests += 1
        assert request.headers["content-type"] == "application/x-ndjson"
        if self.down_after is not None and sum(self.store_count.values()) >= self.down_after:
            raise httpx.ConnectError("connection refused", request=request)
        if self.unavailable:
            self.unavailable -= 1
            return _error(503, "database_unavailable", "try again", headers={"Retry-After": "3"})
        try:
            batch = validate_batch(parse_ndjson_batch(body))
        except BatchValidationError as exc:
            details = [{"index": e.index, "field": e.field, "reason": e.reason} for e in exc.errors]
            return _error(422, "batch_rejected", "the batch is not valid", details)
        if batch.batch_id in self.reject:
            status, error = self.reject[batch.batch_id]
            return httpx.Response(status, json=error)
        if batch.member_id != member_id:
            return _error(403, "wrong_member", "batch is for another member")
        digest = hashlib.sha256(batch.model_dump_json(exclude={"created_at"}).encode()).hexdigest()
        slot = (batch.member_id, batch.batch_id)
        answer = {
            "batch_id": batch.batch_id,
            "member_id": batch.member_id,
            "accepted": len(batch.records),
            "by_type": dict(Counter(r.record_type for r in batch.records)),
            "by_tier": {},
        }
        if slot in self.stored:
            if self.stored[slot] != digest:
                return _error(409, "batch_conflict", "other content under this batch id")
            return httpx.Response(200, json={**answer, "replayed": True})
        self.stored[slot] = digest
        self.store_count[batch.batch_id] += 1
        self.records[batch.batch_id] = len(batch.records)
        if batch.batch_id in self.lose_answer:
            self.lose_answer.discard(batch.batch_id)
            raise httpx.ReadTimeout("the answer never came", request=request)
        return httpx.Response(201, json={**answer, "replayed": False})

    def _check(self, body: bytes) -> httpx.Response:
        payload = json.loads(body)
        self.check_requests.append(payload)
        if self.rate_limited:
            self.rate_limited -= 1
            return _error(429, "rate_limited", "slow down", headers={"Retry-After": "7"})
        accounts = payload["accounts"]
        if len(accounts) > 10_000:
            return _error(422, "too_many_accounts", "at most 10,000 accounts per request")
        results = []
        for account in accounts:
            hits = [
                self.registry[(i["kind"], i["pseudonym"], i["key_version"])]
                for i in account["identifiers"]
                if (i["kind"], i["pseudonym"], i["key_version"]) in self.registry
            ]
            typology = hits[0] if hits and self.disclose_typology else None
            results.append({"ref": account["ref"], "match": bool(hits), "typology": typology})
        return httpx.Response(200, json={"results": results, "checked": len(results)})


def _error(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": code, "message": message, "details": details or []},
        headers=headers,
    )
