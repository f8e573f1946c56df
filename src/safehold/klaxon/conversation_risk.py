"""The conversation rule's input: each conversation's risk from ``safehold.conversation``.

Why a table made ahead: scoring reads message text and is far slower than screening, so a
member scores its conversations (as they change) into the flags folder's
``conversation_risk`` table, and the screening path only joins on ``conversation_id``."""

from __future__ import annotations

import polars as pl

from safehold.conversation.batch import MINOR_BANDS
from safehold.conversation.model import RiskModel
from safehold.conversation.types import ChatMessage
from safehold.klaxon.flags import CONVERSATION_RISK_SCHEMA

MESSAGE_COLUMNS = ("conversation_id", "message_id", "sender_id", "sent_at", "text")


def _sender_bands(conversations: pl.DataFrame | None) -> pl.DataFrame | None:
    """(conversation_id, sender_id) -> the band the scorer reads: a minor band as it is,
    any adult band as "adult"."""
    if conversations is None:
        return None
    pairs = conversations.select(
        "conversation_id",
        pl.col("participant_ids").alias("sender_id"),
        pl.col("participant_age_bands").alias("band"),
    ).explode("sender_id", "band")
    return pairs.with_columns(
        pl.when(pl.col("band").is_in(list(MINOR_BANDS)))
        .then(pl.col("band"))
        .when(pl.col("band").is_not_null())
        .then(pl.lit("adult"))
        .alias("sender_age_band")
    ).drop("band")


def conversation_risk(
    messages: pl.DataFrame,
    conversations: pl.DataFrame | None = None,
    model: RiskModel | None = None,
) -> pl.DataFrame:
    """Score every conversation in ``messages`` (the member layout's ``messages`` table;
    ``conversations`` adds who is a child): one row per conversation with its peak risk
    and the grooming-pattern stages seen."""
    missing = [c for c in MESSAGE_COLUMNS if c not in messages.columns]
    if missing:
        raise ValueError(f"messages: missing column(s) {', '.join(missing)}")
    bands = _sender_bands(conversations)
    if bands is not None:
        messages = messages.join(bands, on=["conversation_id", "sender_id"], how="left")
    elif "sender_age_band" not in messages.columns:
        messages = messages.with_columns(pl.lit(None, pl.Utf8).alias("sender_age_band"))
    chat = [
        ChatMessage(
            conversation_id=row["conversation_id"],
            message_id=row["message_id"],
            sender_id=row["sender_id"],
            sent_at=row["sent_at"],
            text=row["text"],
            sender_age_band=row["sender_age_band"],
        )
        for row in messages.iter_rows(named=True)
    ]
    results = (model or RiskModel.default()).score_many(chat, per_message=False)
    return pl.DataFrame(
        {
            "conversation_id": [r.conversation_id for r in results],
            "risk": [r.risk for r in results],
            "stages": [list(r.stages_seen) for r in results],
        },
        schema=CONVERSATION_RISK_SCHEMA,
    )
