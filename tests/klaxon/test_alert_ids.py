"""The compiled BLAKE2b of the alert ids against ``hashlib``'s: on random messages of every
length around the 128-byte blocks, and on random alert keys (texts of any script, empty,
longer than a block; window starts of both signs, to the ends of 64 bits), in the order the
engine puts them out."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.klaxon import alert_ids
from safehold.klaxon.alert_ids import alert_id, blake2b_128, ids_in_order

ACCOUNTS = st.one_of(st.text(max_size=40), st.text(min_size=120, max_size=300))


@given(st.binary(max_size=400))
def test_the_compiled_digest_is_blake2b(message: bytes) -> None:
    assert blake2b_128(message) == hashlib.blake2b(message, digest_size=16).digest()


def test_every_length_around_the_blocks() -> None:
    for size in [0, 1, 111, 112, 127, 128, 129, 255, 256, 257, 384, 1000]:
        message = bytes(range(256)) * 4
        assert (
            blake2b_128(message[:size]) == hashlib.blake2b(message[:size], digest_size=16).digest()
        ), size


@given(
    member=st.text(min_size=1, max_size=30),
    keys=st.lists(
        st.tuples(ACCOUNTS, ACCOUNTS, st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=20
    ),
)
def test_ids_are_the_plain_readings_and_come_in_order(
    member: str, keys: list[tuple[str, str, int]]
) -> None:
    senders = pl.Series([k[0] for k in keys], dtype=pl.Utf8)
    recipients = pl.Series([k[1] for k in keys], dtype=pl.Utf8)
    starts = np.array([k[2] for k in keys], dtype=np.int64)
    ids, order = ids_in_order(member, senders, recipients, starts)
    assert ids.to_list() == [alert_id(member, s, r, w) for s, r, w in keys]
    assert ids.gather(order).to_list() == sorted(ids.to_list())


def test_the_id_is_the_documented_key() -> None:
    key = "klaxon-alert/v1|plat-a|sender-1|child-1|1700000000000000"
    assert alert_id("plat-a", "sender-1", "child-1", 1_700_000_000_000_000) == (
        hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    )


def test_ids_sharing_their_first_eight_bytes_still_come_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The single sort by the first eight bytes is exact only where they differ."""
    digests = np.array(
        [[7] * 8 + [9] * 8, [7] * 8 + [1] * 8, [3] * 8 + [5] * 8, [7] * 8 + [4] * 8],
        dtype=np.uint8,
    )
    monkeypatch.setattr(alert_ids, "alert_digests", lambda *args: digests)
    ids, order = alert_ids.ids_in_order("m", pl.Series(["a"]), pl.Series(["b"]), np.zeros(1))
    assert ids.gather(order).to_list() == sorted(ids.to_list())
    assert order.tolist() == [2, 1, 3, 0]
