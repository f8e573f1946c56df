"""Phrasing families, slot fillers and style noise for synthetic conversations.

Why: a conversation-risk model should learn grooming patterns, not one dataset's
wording. Every template belongs to exactly one phrasing family (a writing style with
its own templates), so a caller can train on some families and test on held-out ones.
Slot fillers (games, invented app names, places) add variety; the per-family style
noise (abbreviations, typos, emoji) adds more. All text is clean and non-explicit.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from safehold.synth.phrasing_grooming import ADULT_STAGE_LINES, CHILD_REPLIES
from safehold.synth.phrasing_hard_negatives import HARD_NEGATIVE_BODIES
from safehold.synth.phrasing_ordinary import (
    CLOSINGS,
    GREETINGS,
    ORDINARY_BODIES,
    SHOPPING_CLOSINGS,
    SMALL_TALK,
)

PHRASING_FAMILIES: tuple[str, ...] = (
    "formal",
    "casual",
    "textspeak",
    "emoji_light",
    "typo_prone",
    "terse",
)
"""Writing styles; each has its own templates for every stage and conversation kind."""

STAGES: tuple[str, ...] = (
    "none",
    "rapport",
    "risk_assessment",
    "exclusivity_secrecy",
    "gifts",
    "platform_move",
    "meeting",
)
"""Ground-truth message stages, in the order a grooming conversation moves through them."""

GROOMING_STAGES: tuple[str, ...] = STAGES[1:]
STAGE_RANK: Mapping[str, int] = {stage: rank for rank, stage in enumerate(STAGES)}

ORDINARY_KINDS: tuple[str, ...] = ("friends", "family", "school", "gaming", "shopping")
HARD_NEGATIVE_NAMES: tuple[str, ...] = tuple(HARD_NEGATIVE_BODIES)
HARD_NEGATIVE_KINDS: tuple[str, ...] = tuple(f"hard_negative_{n}" for n in HARD_NEGATIVE_NAMES)
GROUP_HARD_NEGATIVES: frozenset[str] = frozenset(
    {"hard_negative_teacher_meeting", "hard_negative_group_app_move"}
)
"""Hard-negative kinds held in a group chat (their units use the any-member role M)."""

ROLES: frozenset[str] = frozenset({"A", "B", "C", "M"})

STAGE_TOPICS: Mapping[str, frozenset[str]] = {
    "rapport": frozenset({"game", "interest", "sympathy"}),
    "risk_assessment": frozenset(
        {"phone", "device", "alone", "tonight", "bedtime", "read", "room"}
    ),
    "exclusivity_secrecy": frozenset({"tell", "delete"}),
    "gifts": frozenset(),
    "platform_move": frozenset({"app", "number"}),
    "meeting": frozenset({"alone"}),
}
"""Topics that pair an adult's stage line with fitting child replies."""

# Values for {slot} placeholders. App names are invented; no real brands.
_NAMES = (
    "Mia", "Leo", "Ava", "Noah", "Zara", "Sam", "Ella", "Kai", "Ruby", "Finn", "Isla",
    "Omar", "Lily", "Jay", "Maya", "Theo", "Aisha", "Ben", "Chloe", "Dev", "Grace", "Hugo",
    "Ivy", "Jack", "Layla", "Max", "Nina", "Oscar", "Priya", "Rory", "Sofia", "Tom",
    "Yusuf", "Amara", "Eli", "Hana",
)  # fmt: skip

SLOT_FILLERS: Mapping[str, tuple[str, ...]] = {
    "name": _NAMES,
    "friend": _NAMES,
    "game": (
        "Blockhaven", "Starfall Legends", "Kart Frenzy", "Dungeon Drift", "Pixel Kingdoms",
        "Tower Tactics", "Galaxy Brawl", "Farmstead Friends", "Skyforge", "Mech Arena Zero",
        "Ocean Outlaws", "Critter Club",
    ),
    "app": (
        "ChatNest", "SnapTalk", "PingPal", "LoopChat", "Echo Messenger", "QuietLine",
        "Blink Messenger", "Huddle Up", "TalkTile", "Buzzly",
    ),
    "vanish_app": ("WhisperBox", "GhostChat", "Vanishly", "FadeNote", "PoofChat", "Evapo"),
    "handle": (
        "cool_dan84", "jay.gamer", "mike_k77", "skyfox_22", "nightowl.88", "lee_plays",
        "rob_the_builder", "tommo_91", "gamerchris", "steve.k", "al_x_99", "dazza_uk",
    ),
    "interest": (
        "drawing", "football", "music", "dancing", "skating", "baking", "anime", "guitar",
        "coding", "reading", "basketball", "singing", "gymnastics", "painting",
    ),
    "place": (
        "the park", "the shopping centre", "the station", "the cinema", "the library",
        "the bus stop", "the leisure centre", "the high street", "the skate park",
        "the corner shop",
    ),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "time": ("4pm", "5pm", "half 3", "6:30", "7pm", "3:15", "10am", "2pm", "11", "noon"),
    "amount": ("£10", "£15", "£20", "£25", "$10", "$25", "€15", "€20"),
    "credits": (
        "500 gems", "1000 coins", "a battle pass", "800 crystals", "the premium pass",
        "2000 tokens", "some credits",
    ),
    "present": (
        "a gift card", "a new bike helmet", "a book voucher", "headphones", "art supplies",
        "a board game", "new trainers", "a game voucher", "a phone case",
    ),
    "guardian": ("mum", "dad", "mom", "stepdad", "nan", "aunt"),
    "show": (
        "that new series", "the cooking show", "the match", "the quiz show",
        "the nature documentary", "the baking show",
    ),
    "food": ("pizza", "pasta", "tacos", "curry", "burgers", "fish and chips", "stir fry"),
    "subject": (
        "maths", "science", "history", "English", "geography", "art", "French", "music",
        "computing",
    ),
    "task": (
        "the worksheet", "chapter 4", "the essay", "the revision sheet", "page 32",
        "the project", "the reading log",
    ),
    "event": (
        "the trip", "sports day", "parents evening", "the school play", "the science fair",
        "the museum visit",
    ),
    "room": ("room 12", "the main hall", "the library", "the science block", "reception"),
    "relative": ("Grandma", "Grandad", "Auntie Jo", "Uncle Max", "Nana", "Auntie Sue"),
    "op": ("dad", "mum"),
    "item": (
        "the trainers", "the hoodie", "the headphones", "the phone case", "the jacket",
        "the backpack", "the lamp", "the kettle", "the board game",
    ),
    "order": tuple(f"#{(7919 * k) % 90000 + 10000}" for k in range(1, 61)),
    "celebrant": ("Mum", "Dad", "Grandma", "Grandad", "Nan"),
    "sport": ("football", "netball", "hockey", "basketball", "rugby", "cricket"),
    "venue": (
        "Riverside Park", "the sports centre", "Oakfield pitches", "Northgate school",
        "the leisure centre",
    ),
}  # fmt: skip

SLOT_POOL: Mapping[str, str] = {"name": "names", "friend": "names"}
"""Slots that share a pool are filled with distinct values inside one conversation."""


@dataclass(frozen=True)
class Line:
    """One line of a unit: who says it (role letter) and the template."""

    role: str
    template: str


Unit = tuple[Line, ...]


@dataclass(frozen=True)
class TaggedLine:
    """A grooming-stage line or child reply; replies answer lines of the same topic
    (an empty topic means the reply fits any line of the stage)."""

    tag: str
    template: str


@dataclass(frozen=True)
class KindBank:
    """The units one phrasing family offers for one conversation kind."""

    openers: tuple[Unit, ...]
    bodies: tuple[Unit, ...]
    closers: tuple[Unit, ...]


def _parse_unit(raw: tuple[str, ...]) -> Unit:
    lines = []
    for entry in raw:
        role, _, template = entry.partition("|")
        lines.append(Line(role=role, template=template))
    return tuple(lines)


def _parse_units(raw: tuple[tuple[str, ...], ...]) -> tuple[Unit, ...]:
    return tuple(_parse_unit(u) for u in raw)


_GREETINGS = {f: _parse_units(GREETINGS[f]) for f in PHRASING_FAMILIES}
_CLOSINGS = {f: _parse_units(CLOSINGS[f]) for f in PHRASING_FAMILIES}
_SMALL_TALK = {f: _parse_units(SMALL_TALK[f]) for f in PHRASING_FAMILIES}


def _build_kind_banks() -> dict[str, dict[str, KindBank]]:
    banks: dict[str, dict[str, KindBank]] = {}
    for kind in ORDINARY_KINDS:
        per_family: dict[str, KindBank] = {}
        for family in PHRASING_FAMILIES:
            bodies = _parse_units(ORDINARY_BODIES[kind][family])
            if kind == "shopping":
                bank = KindBank((), bodies, _parse_units(SHOPPING_CLOSINGS[family]))
            else:
                bank = KindBank(_GREETINGS[family], bodies, _CLOSINGS[family])
            per_family[family] = bank
        banks[kind] = per_family
    for name, kind in zip(HARD_NEGATIVE_NAMES, HARD_NEGATIVE_KINDS, strict=True):
        per_family = {}
        for family in PHRASING_FAMILIES:
            bodies = _parse_units(HARD_NEGATIVE_BODIES[name][family])
            if kind in GROUP_HARD_NEGATIVES or kind == "hard_negative_coach_pickup":
                per_family[family] = KindBank((), bodies, ())
            else:
                per_family[family] = KindBank(_GREETINGS[family], bodies, _CLOSINGS[family])
        banks[kind] = per_family
    return banks


_KIND_BANKS = _build_kind_banks()


def kind_bank(kind: str, family: str) -> KindBank:
    """Units for an ordinary or hard-negative kind in one phrasing family."""
    return _KIND_BANKS[kind][family]


def greetings(family: str) -> tuple[Unit, ...]:
    return _GREETINGS[family]


def closings(family: str) -> tuple[Unit, ...]:
    return _CLOSINGS[family]


def small_talk(family: str) -> tuple[Unit, ...]:
    """Neutral exchanges either side may start (grooming conversations interleave them)."""
    return _SMALL_TALK[family]


def _parse_tagged(raw: tuple[str, ...]) -> tuple[TaggedLine, ...]:
    out = []
    for entry in raw:
        tag, sep, template = entry.partition("|")
        out.append(TaggedLine(tag, template) if sep else TaggedLine("", entry))
    return tuple(out)


_STAGE_LINES = {
    f: {s: _parse_tagged(ADULT_STAGE_LINES[f][s]) for s in GROOMING_STAGES}
    for f in PHRASING_FAMILIES
}
_CHILD_REPLIES = {
    f: {s: _parse_tagged(CHILD_REPLIES[f][s]) for s in GROOMING_STAGES} for f in PHRASING_FAMILIES
}


def stage_lines(family: str, stage: str) -> tuple[TaggedLine, ...]:
    """What an adult sends in a grooming stage, in one phrasing family."""
    return _STAGE_LINES[family][stage]


def child_replies(family: str, stage: str, topic: str = "") -> tuple[str, ...]:
    """Templates a child may answer a stage line on ``topic`` with (ground truth: none):
    the answers on that topic plus the ones that fit any line of the stage."""
    return tuple(line.template for line in _CHILD_REPLIES[family][stage] if line.tag in ("", topic))


def iter_templates() -> Iterator[tuple[str, str, str]]:
    """Every template as (family, bank, template): for content guards and audits."""
    for family in PHRASING_FAMILIES:
        for stage in GROOMING_STAGES:
            for tagged in stage_lines(family, stage):
                yield family, f"grooming.{stage}", tagged.template
            for reply in _CHILD_REPLIES[family][stage]:
                yield family, f"child_reply.{stage}", reply.template
        for bank_name, units in (
            ("greetings", _GREETINGS[family]),
            ("closings", _CLOSINGS[family]),
            ("small_talk", _SMALL_TALK[family]),
        ):
            for unit in units:
                for line in unit:
                    yield family, bank_name, line.template
        for kind, per_family in _KIND_BANKS.items():
            bank = per_family[family]
            for unit in (*bank.openers, *bank.bodies, *bank.closers):
                for line in unit:
                    yield family, kind, line.template


def placeholders(template: str) -> set[str]:
    """The {slot} names a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def validate_banks() -> list[str]:
    """Problems with the banks (unknown slots or roles, empty banks); empty when sound."""
    problems: list[str] = []
    for family in PHRASING_FAMILIES:
        for stage in GROOMING_STAGES:
            if not stage_lines(family, stage):
                problems.append(f"{family}: no lines for stage {stage}")
            if not child_replies(family, stage):
                problems.append(f"{family}: no topic-free child replies for stage {stage}")
            tags = {line.tag for line in stage_lines(family, stage)}
            tags |= {reply.tag for reply in _CHILD_REPLIES[family][stage]}
            unknown_tags = tags - STAGE_TOPICS[stage] - {""}
            if unknown_tags:
                problems.append(f"{family}/{stage}: unknown topics {sorted(unknown_tags)}")
            for topic in STAGE_TOPICS[stage]:
                if not any(r.tag == topic for r in _CHILD_REPLIES[family][stage]):
                    problems.append(f"{family}/{stage}: no child reply on topic {topic}")
        for kind, per_family in _KIND_BANKS.items():
            if not per_family[family].bodies:
                problems.append(f"{family}: no units for kind {kind}")
            bank = per_family[family]
            for unit in (*bank.openers, *bank.bodies, *bank.closers):
                for line in unit:
                    if line.role not in ROLES:
                        problems.append(f"{family}/{kind}: bad role in {line.template!r}")
    for family, bank_name, template in iter_templates():
        unknown = placeholders(template) - set(SLOT_FILLERS)
        if unknown:
            problems.append(f"{family}/{bank_name}: unknown slots {sorted(unknown)}")
        if not template.strip():
            problems.append(f"{family}/{bank_name}: empty template")
    return problems


# --- style noise ----------------------------------------------------------------------


class Uniform(Protocol):
    """A source of uniform floats in [0, 1) (the generator's seeded draw)."""

    def u(self) -> float: ...


_EMOJI = ("🙂", "😂", "👍", "😅", "😊", "🙌", "😄")
_TEXTSPEAK = {
    "you": "u",
    "your": "ur",
    "are": "r",
    "tonight": "2nite",
    "tomorrow": "2moro",
    "please": "pls",
    "thanks": "thx",
    "because": "cos",
    "really": "rly",
    "okay": "ok",
    "people": "ppl",
    "what": "wat",
    "later": "l8r",
}
_WORD = re.compile(r"[A-Za-z']+")


def _has_emoji(text: str) -> bool:
    return any(ord(ch) > 0x2500 for ch in text)


def _typo(word: str, r: Uniform) -> str:
    if len(word) < 4:
        return word
    i = 1 + int(r.u() * (len(word) - 2))
    op = r.u()
    if op < 0.4:  # swap two neighbours
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if op < 0.7:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double a letter


def stylise(family: str, text: str, r: Uniform) -> str:
    """Apply a family's random surface noise to rendered text (never empties it)."""
    if family == "formal":
        return text
    if family == "casual":
        text = text.removesuffix(".")
        if r.u() < 0.4:
            text = text[:1].lower() + text[1:]
        return text
    if family == "textspeak":
        lowered = text.lower()

        def swap(m: re.Match[str]) -> str:
            word = m.group(0)
            short = _TEXTSPEAK.get(word)
            if short is not None and r.u() < 0.6:
                return short
            if "'" in word and r.u() < 0.6:
                return word.replace("'", "")
            return word

        return _WORD.sub(swap, lowered).rstrip(".") or lowered
    if family == "emoji_light":
        text = text.removesuffix(".")
        if not _has_emoji(text) and r.u() < 0.3:
            text = f"{text} {_EMOJI[int(r.u() * len(_EMOJI))]}"
        return text
    if family == "typo_prone":
        if r.u() < 0.7:
            text = text.lower()

        def maybe_typo(m: re.Match[str]) -> str:
            word = m.group(0)
            return _typo(word, r) if r.u() < 0.07 else word

        text = _WORD.sub(maybe_typo, text)
        if r.u() < 0.5:
            text = text.replace("'", "")
        if r.u() < 0.5:
            text = text.rstrip(".!") or text
        return text
    if family == "terse":
        return text.lower().rstrip(".") or text
    raise ValueError(f"unknown phrasing family {family!r}; expected one of {PHRASING_FAMILIES}")
