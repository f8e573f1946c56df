"""Hand-written stage lexicon: generic phrases for each grooming stage.

Why: a reviewer needs to see *which words* made a message look like a stage, and a model
that only learned one dataset's wording fails on new phrasing. These patterns are written
from the published stage descriptions (rapport and flattery, checking whether parents
watch the phone, secrecy, gifts, moving to another app, asking to meet), not from any
generator's templates, and tolerate common text-speak ("u", "ur", "r"). Patterns only:
nothing explicit, ever.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from safehold.conversation.types import STAGES

# Building blocks (non-capturing groups only: the combined pattern adds its own named groups).
_YOU = r"(?:you|u|ya|yu)"
_YOUR = r"(?:your|ur|yr|you'?re)"
_YOURE = r"(?:you'?re|your|ur|u r|you are)"
_I = r"(?:i|me)"
_ILL = r"(?:i'?ll|i will|i can|i could|i'?d|i would|let me|lemme|i wanna|i want to|i'?m gonna|i am going to)"
_NOT = r"(?:don'?t|dont|do not|never|pls don'?t|please don'?t)"
_ADULTS = (
    r"(?:mum|mom|mam|mummy|mommy|dad|daddy|parents?|folks|step ?(?:mum|mom|dad)|nan|nana|"
    r"gran|grandma|grandad|aunt|auntie|uncle|guardian|carer|family|teachers?|brother|sister)"
)
_DEVICE = r"(?:phone|mobile|tablet|ipad|laptop|computer|pc|device|console|account)"
_MESSAGES = r"(?:messages|msgs|texts|chats?|dms|conversations?|history)"
_LOOK = r"(?:check|checks|look at|looks at|look through|looks through|go through|goes through|read|reads|see|sees|snoop|monitor|monitors|watch|watches)"
_NOT_APP = (
    r"(?:the|a|an|my|here|this|it|that|me|you|u|there|and|now|then|later|soon|tomorrow|"
    r"today|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|"
    r"time|top|with|about|for|to|in|at|phone|call|video|school|class|topic|please|pls)"
)

STAGE_PATTERNS: dict[str, tuple[str, ...]] = {
    "rapport": (
        rf"\bmature for {_YOUR} age\b",
        r"\b(?:so|really|very|rly|super|way more) (?:mature|grown[- ]up|special|talented|clever|smart|gifted)\b",
        rf"\b{_I}(?:'?m| am)? always (?:here|there) for {_YOU}\b",
        rf"\b(?:nobody|no one|no-one) (?:gets|understands|appreciates) {_YOU} (?:like|the way)\b",
        rf"\b{_YOU} (?:can|could) (?:always )?(?:talk|message|text|come) to me\b",
        rf"\b{_YOU} deserve(?:d)? (?:better|more)\b",
        rf"\b(?:never|not) met (?:any ?one|some ?one) like {_YOU}\b",
        rf"\b{_YOURE} (?:so|really|rly|very) (?:easy|fun|nice) to talk to\b",
        rf"\b(?:love|enjoy|like) (?:talking|chatting) (?:to|with) {_YOU}\b",
    ),
    "risk_assessment": (
        rf"\b(?:do|does|would|will) {_YOUR} {_ADULTS} (?:ever )?{_LOOK}\b",
        rf"\b(?:who|anyone|anybody|some ?one|any ?one) else (?:use|uses|{_LOOK[3:-1]})\b",
        rf"\b(?:is|r|are) (?:that|the|this|ur|your) {_DEVICE} (?:just |all |only )?(?:yours|urs|your own|shared)\b",
        rf"\b{_DEVICE} (?:just |all |only )?(?:yours|urs)\b",
        rf"\b(?:are|r) {_YOU} (?:usually |ever |often )?(?:home )?(?:alone|by (?:yo)?urself|on (?:your|ur) own)\b",
        r"\bhome alone\b",
        rf"\b(?:is|are|r) {_YOUR} {_ADULTS} (?:home|in|around|out|away|at work|there|awake|asleep)\b",
        rf"\b(?:when|what time) (?:do|does) {_YOUR} {_ADULTS} (?:go to (?:bed|sleep)|get home|get back|leave|go out|finish work)\b",
        rf"\b(?:does|do) {_YOUR} {_ADULTS} know (?:who|what|about|where)\b",
        rf"\b{_YOUR} own (?:room|bedroom)\b",
        rf"\b(?:anyone|anybody|any1|some ?one) (?:else )?(?:around|watching|with {_YOU}|nearby|home)\b",
        rf"\b(?:who|anyone) (?:checks|reads|sees|looks at) {_YOUR} {_MESSAGES}\b",
    ),
    "exclusivity_secrecy": (
        r"\bour (?:little )?secret\b",
        r"\b(?:keep|kept) (?:it|this|us|that|our \w+) (?:a )?(?:secret|private|quiet|to (?:yo)?urself|between us)\b",
        rf"\b{_NOT} (?:tell|mention|say|show|talk about)\b",
        rf"\b(?:just |only )?between (?:us|you and me|u and me|me and {_YOU}|the two of us|us two)\b",
        r"\b(?:nobody|no one|no-one|no1) (?:else )?(?:needs|has|would|will|can|has) (?:to )?(?:know|understand|find out)\b",
        rf"\b(?:they|{_YOUR} {_ADULTS}|people|adults|grown ?ups) (?:wouldn'?t|would not|won'?t|will not|don'?t|do not|would never) (?:understand|get it|get us)\b",
        rf"\b(?:delete|clear|wipe|erase|remove) (?:all )?(?:our|these|the|this|{_YOUR}|my) {_MESSAGES}\b",
        rf"\b{_YOU} can tell me anything\b",
        rf"\bunderstand {_YOU} (?:better|more) than\b",
        r"\b(?:if|when) (?:anyone|anybody|some ?one|they|ur \w+|your \w+) asks?\b",
        r"\bspecial (?:friendship|bond|connection)\b",
        rf"\b(?:they|{_ADULTS}) (?:don'?t|do not) (?:need|have) to know\b",
    ),
    "gifts": (
        rf"\b{_ILL} (?:buy|get|send|pay for|order|gift|treat) {_YOU}\b",
        rf"\b{_ILL} (?:pay|top up|topup|put (?:some )?(?:money|credit))\b",
        rf"\b(?:buy|get|send|sent|gift|got) {_YOU} (?:some|a|an|the|that|those|new)\b",
        rf"\btop (?:up|ups) {_YOUR}\b",
        r"\b(?:gift ?card|voucher|gift code)s?\b",
        rf"\b(?:anything|whatever) {_YOU} (?:want|need|like)\b",
        r"\bmy treat\b",
        r"\b(?:send|sent|give|transfer) (?:you |u )?(?:some )?(?:money|cash|credit)\b",
    ),
    "moving_platform": (
        r"\badd me (?:on|at|to|over on)\b",
        rf"\b(?:talk|chat|message|msg|text|speak|continue|carry on|move|go|come) (?:this |it )?(?:on|over on|over to|onto|via) (?!{_NOT_APP}\b)[a-z]+\b",
        r"\b(?:another|a different|a private|a more private|a better|a safer|a quieter|a secret) (?:app|site|platform|chat|place to (?:talk|chat))\b",
        rf"\b(?:what'?s|give me|send me|can i (?:have|get)|could {_YOU} (?:give|send) me|drop me) {_YOUR} (?:number|digits|username|handle|user ?name|snap|id)\b",
        r"\bmy (?:username|handle|user ?name|number|id) (?:is|on)\b",
        r"\b(?:more )?private (?:app|chat|place|site|platform)\b",
        r"\b(?:this|the) (?:app|site|platform|chat|game) (?:is|gets|are|r) (?:too )?(?:monitored|watched|checked|moderated|logged|tracked)\b",
        r"\b(?:messages|msgs|chats?) (?:disappear|vanish|delete themselves|self[- ]destruct|auto[- ]?delete)\b",
        r"\b(?:disappearing|vanishing) (?:messages|msgs|chats?)\b",
        rf"\b(?:do|have|got) {_YOU} (?:got |have )?(?:an? )?(?:other|another) (?:app|account|number)\b",
    ),
    "meeting": (
        rf"\bmeet (?:up|in person|irl|{_YOU}|somewhere|me)\b",
        r"\b(?:we|let'?s|lets) (?:should |could |can |could maybe )?(?:meet|hang out|get together)\b",
        rf"\bpick {_YOU} up\b",
        rf"\b(?:collect|fetch|come and get|come get) {_YOU}\b",
        rf"\b(?:come|go) (?:on {_YOUR} own|alone|by (?:yo)?urself)\b",
        rf"\bwhere do {_YOU} live\b",
        rf"\b(?:what'?s|what is) {_YOUR} address\b",
        rf"\bwhat school do {_YOU} go to\b",
        rf"\b(?:tell|say to) {_YOUR} {_ADULTS} (?:{_YOURE}|{_YOU}'?re) (?:at|with|staying)\b",
        r"\b(?:in person|irl|in real life|face to face)\b",
        r"\bdrive (?:over|to|down|up|round)\b",
        rf"\bcome (?:and )?(?:see|visit) {_YOU}\b",
    ),
}
"""Regular expressions per stage (matched case-insensitively on word boundaries)."""

if tuple(STAGE_PATTERNS) != STAGES:  # pragma: no cover - guards the column order
    raise RuntimeError("STAGE_PATTERNS must list the stages in STAGES order")

if not all(p.startswith(r"\b") for ps in STAGE_PATTERNS.values() for p in ps):  # pragma: no cover
    raise RuntimeError("every lexicon pattern must start at a word boundary (\\b)")

_PER_STAGE = {
    stage: re.compile(
        r"\b(?=\w)(?:" + "|".join(f"(?:{p[2:]})" for p in patterns) + ")", re.IGNORECASE
    )
    for stage, patterns in STAGE_PATTERNS.items()
}


def _group_end(pattern: str, i: int) -> int:
    """Index just past the ")" closing the group opened at ``pattern[i]``."""
    depth = 0
    j = i
    while j < len(pattern):
        ch = pattern[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j += 1
            while pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError(f"unbalanced group in lexicon pattern {pattern!r}")


def _split_alternatives(body: str) -> list[str]:
    """``body`` split at its top-level "|"."""
    parts: list[str] = []
    depth = 0
    last = 0
    j = 0
    while j < len(body):
        ch = body[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j += 1
            while body[j] != "]":
                j += 2 if body[j] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[last:j])
            last = j + 1
        j += 1
    parts.append(body[last:])
    return parts


def expand_leading(pattern: str, limit: int = 64) -> list[str]:
    """``pattern`` as an ordered list of alternatives with its leading ``(?:a|b)`` groups
    distributed over the rest (``(?:a|b)x`` -> ``ax``, ``bx``): the same strings tried in
    the same order, so the first match is the same, but every alternative now starts with
    a literal character the regex engine can test before entering it."""
    if not pattern.startswith("(?:"):
        return [pattern]
    end = _group_end(pattern, 0)
    if end < len(pattern) and pattern[end] in "?*+{":
        return [pattern]
    out: list[str] = []
    for alternative in _split_alternatives(pattern[3 : end - 1]):
        if not alternative:
            return [pattern]
        out.extend(expand_leading(alternative + pattern[end:], limit))
        if len(out) > limit:
            return [pattern]
    return out


# For the batch scan over lower-cased text: one alternation of every pattern, in stage
# order (the first pattern to match wins, as with one group per stage), each alternative
# closed by an empty named group whose name gives the stage through ``lastgroup``. The
# shared leading \b and a first-character look-ahead are hoisted out, so most positions
# fail after two checks; at a word start the engine skips every alternative whose first
# literal character differs without entering it (about twice as fast as one group per
# stage).
_ALTERNATIVES = [
    (i, alternative)
    for i, patterns in enumerate(STAGE_PATTERNS.values())
    for p in patterns
    for alternative in expand_leading(p[2:])
]
_GROUP_STAGE = {f"a{k}": i for k, (i, _) in enumerate(_ALTERNATIVES)}
_COMBINED = re.compile(
    r"\b(?=[a-z0-9])(?:"
    + "|".join(f"{alternative}(?P<a{k}>)" for k, (_, alternative) in enumerate(_ALTERNATIVES))
    + ")"
)
_STAGE_INDEX = {stage: i for i, stage in enumerate(STAGES)}
_SEPARATOR = "\x00"


def find_phrases(text: str) -> list[tuple[str, int, int]]:
    """Every lexicon match in ``text`` as (stage, start, end), so ``text[start:end]`` is the
    phrase; a stage's matches do not overlap each other, other stages' may."""
    found: list[tuple[str, int, int]] = []
    for stage, pattern in _PER_STAGE.items():
        found.extend((stage, m.start(), m.end()) for m in pattern.finditer(text))
    found.sort(key=lambda item: (item[1], item[2], _STAGE_INDEX[item[0]]))
    return found


def stage_hits(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """(len(texts), len(STAGES)): 1 where the text has a lexicon match of that stage.

    One scan of all texts joined by NUL (NUL is neither a word character nor whitespace,
    so no pattern crosses it), matches mapped back to messages by their offsets: the same
    answer as scanning each text alone, without per-message Python work. One scan reports
    one stage per span, so a phrase that fits two stages counts for the first."""
    lowered = [t.lower().replace(_SEPARATOR, " ") for t in texts]
    lengths = np.fromiter((len(t) + 1 for t in lowered), dtype=np.int64, count=len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return stage_hits_joined(_SEPARATOR.join(lowered), starts, len(texts))


def stage_hits_joined(
    joined: str, starts: npt.NDArray[np.int64], n_texts: int
) -> npt.NDArray[np.float64]:
    """``stage_hits`` of texts already lower-cased and joined by NUL, text i beginning at
    ``starts[i]`` (the vectoriser joins them once for every feature block)."""
    out = np.zeros((n_texts, len(STAGES)), dtype=np.float64)
    if n_texts == 0:
        return out
    positions: list[int] = []
    columns: list[int] = []
    for m in _COMBINED.finditer(joined):
        positions.append(m.start())
        columns.append(_GROUP_STAGE[m.lastgroup or ""])
    if positions:
        rows = np.searchsorted(starts, np.asarray(positions), side="right") - 1
        out[rows, np.asarray(columns)] = 1.0
    return out
