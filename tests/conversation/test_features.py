"""The numpy feature hashing: same tokens as the regex, same columns as evidence uses,
rows independent of the batch, and the lexicon switch."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np

from safehold.conversation.context import CONTEXT_NAMES
from safehold.conversation.features import (
    TOKEN_PATTERN,
    TextFeatureConfig,
    TextVectoriser,
    word_column,
)
from safehold.conversation.model import RiskModel
from safehold.conversation.training import train
from safehold.conversation.types import LabelledConversation

from .conftest import GROOMING_LIKE, chat

TEXTS = [
    "Does your MUM check ur phone? 🙂",
    "",
    "snake_case words, über-cool straße 42",
    "привет our secret 你好 x",
    "a\x00b  c",
]


def test_word_block_holds_exactly_the_regex_tokens_and_pairs() -> None:
    config = TextFeatureConfig(word_bits=20, char_bits=0)
    vectoriser = TextVectoriser(config)
    matrix = vectoriser.transform(TEXTS)
    for i, text in enumerate(TEXTS):
        tokens = re.findall(TOKEN_PATTERN, text.lower().replace("\x00", " "))
        grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
        expected = {word_column(g, config.word_features) for g in grams}
        row = matrix[i]
        got = set(row.indices[row.indices < config.word_features].tolist())
        assert got == expected, text


def test_rows_do_not_depend_on_the_rest_of_the_batch() -> None:
    vectoriser = TextVectoriser(TextFeatureConfig())
    together, hits = vectoriser.transform_with_hits(TEXTS)
    for i, text in enumerate(TEXTS):
        alone, alone_hits = vectoriser.transform_with_hits([text])
        assert np.array_equal(together[i].toarray(), alone.toarray())
        assert np.array_equal(hits[i], alone_hits[0])


def test_no_texts_give_an_empty_matrix() -> None:
    matrix, hits = TextVectoriser(TextFeatureConfig()).transform_with_hits([])
    assert matrix.shape == (0, TextFeatureConfig().dimension)
    assert hits.shape == (0, 6)


def test_each_block_is_scaled_to_unit_length_without_repeats() -> None:
    config = TextFeatureConfig(word_bits=22, char_bits=0)
    matrix = TextVectoriser(config).transform(["one two three"])
    matrix.sum_duplicates()
    words = matrix.data[matrix.indices < config.word_features]
    assert words.shape == (5,)  # three words and two pairs
    assert np.isclose(np.sum(words**2), 1.0)


def test_lexicon_can_be_switched_off(small_data: list[LabelledConversation]) -> None:
    config = TextFeatureConfig(use_lexicon=False)
    matrix, hits = TextVectoriser(config).transform_with_hits(["this is our secret"])
    assert not hits.any()
    assert matrix[:, config.word_features + config.char_features :].nnz == 0
    model = train(small_data, seed=0, use_lexicon=False)
    assert model.text.use_lexicon is False
    assert model.metadata["settings"]["use_lexicon"] is False
    result = model.score_conversation(chat(GROOMING_LIKE))
    assert 0.0 <= result.risk <= 1.0
    lexicon_column = CONTEXT_NAMES.index("lexicon_stages")
    assert model.context_weights[lexicon_column] == 0.0  # the feature never varied


def test_lexicon_switch_survives_save_and_load(
    tmp_path: Path, small_data: list[LabelledConversation]
) -> None:
    model = train(small_data[:60], seed=0, use_lexicon=False)
    model.save(tmp_path)
    assert RiskModel.load(tmp_path).text.use_lexicon is False
