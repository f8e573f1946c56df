"""The rules file: a YAML document validated by pydantic (schema: docs/klaxon-rules.md).

Why declarative: a platform tunes what raises an alert (which rules, their severities,
windows and thresholds) without changing code, and every alert names the rules behind it
in plain words. A file that fails its checks is refused with its line and the reason, so
the rules in force stay in force."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from safehold.exchange import Channel
from safehold.klaxon.durations import Duration

DEFAULT_RULES = "default_rules.yaml"
MAX_RULES = 63  # the engine folds the rules that fired on an event into one 64-bit integer


class RulesFileError(ValueError):
    """A rules file that cannot be used; names the file, the line and the reason."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
    severity: Annotated[int, Field(ge=1, le=100, description="Added to the alert's severity.")]
    reason: str | None = Field(
        default=None, min_length=3, max_length=300, description="Plain words for reviewers."
    )
    channels: tuple[Channel, ...] | None = Field(
        default=None, min_length=1, description="Only events on these channels (default: all)."
    )
    enabled: bool = True


class FlaggedSenderRule(_Rule):
    kind: Literal["flagged_sender_contacts_minor"]
    sources: tuple[Literal["registry", "model"], ...] = ("registry", "model")
    model_bands: tuple[Literal["low", "medium", "high"], ...] = ("high",)


class FirstContactRule(_Rule):
    kind: Literal["first_contact"]


class FanOutRule(_Rule):
    kind: Literal["fan_out"]
    min_children: Annotated[int, Field(ge=2, le=10_000)] = 5
    within: Duration = Field(description="Tumbling buckets of this length.")


class NightTimeRule(_Rule):
    kind: Literal["night_time"]
    start_hour: Annotated[int, Field(ge=0, le=23)] = 0
    end_hour: Annotated[int, Field(ge=1, le=24)] = 5
    min_events: Annotated[int, Field(ge=1, le=100)] = 1
    within: Duration = Field(description="The min_events night contacts fall within this time.")

    @model_validator(mode="after")
    def _hours(self) -> NightTimeRule:
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour (hours are UTC, 0 to 24)")
        return self


class AgeGapRule(_Rule):
    kind: Literal["age_gap"]
    min_band_gap: Annotated[int, Field(ge=1, le=8)] = 3


class EscalatingRule(_Rule):
    kind: Literal["escalating_frequency"]
    min_gaps: Annotated[int, Field(ge=2, le=50)] = 3
    max_ratio: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    min_first_gap: Duration = Field(description="The first of the shrinking gaps is this long.")
    within: Duration = Field(description="All the contacts counted fall within this time.")


class ConversationRiskRule(_Rule):
    kind: Literal["conversation_risk"]
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5


class VulnerableRecipientRule(_Rule):
    kind: Literal["vulnerable_recipient"]


Rule = Annotated[
    FlaggedSenderRule
    | FirstContactRule
    | FanOutRule
    | NightTimeRule
    | AgeGapRule
    | EscalatingRule
    | ConversationRiskRule
    | VulnerableRecipientRule,
    Field(discriminator="kind"),
]

REASONS: dict[str, str] = {
    "flagged_sender_contacts_minor": "the sender is flagged ({detail}) and contacted a child",
    "first_contact": "first contact from an adult or an account of unknown age to a child",
    "fan_out": "the sender contacted at least {min_children} different children within {within}",
    "night_time": "contact with a child between {start_hour:02d}:00 and {end_hour:02d}:00 UTC",
    "age_gap": "the sender's age band is at least {min_band_gap} bands above the child's",
    "escalating_frequency": "contact with this child is speeding up: {min_gaps} gaps in a row, "
    "each at most {ratio_percent}% of the one before",
    "conversation_risk": "the linked conversation's grooming-pattern risk is at least {threshold}",
    "vulnerable_recipient": "the child is in the vulnerable-child cohort",
}


def reason_of(rule: _Rule) -> str:
    """The rule's reason in plain words: its own text, or one made from its settings."""
    if rule.reason:
        return rule.reason
    values = rule.model_dump(mode="json")
    if isinstance(rule, FlaggedSenderRule):
        parts = []
        if "registry" in rule.sources:
            parts.append("registry match")
        if "model" in rule.sources:
            parts.append(f"red-flag model band {'/'.join(rule.model_bands)}")
        values["detail"] = " or ".join(parts)
    if isinstance(rule, EscalatingRule):
        values["ratio_percent"] = round(rule.max_ratio * 100)
    if isinstance(rule, NightTimeRule) and rule.min_events > 1:
        return (
            REASONS["night_time"].format(**values)
            + f", at least {rule.min_events} times within {values['within']}"
        )
    return REASONS[values["kind"]].format(**values)


class RuleSet(BaseModel):
    """A whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    window: Duration = Field(description="Alerts are one per sender, child and window.")
    alert_at: Annotated[int, Field(ge=1, le=10_000)] = Field(
        description="An alert is raised when its rules' severities add up to this."
    )
    rules: tuple[Rule, ...] = Field(
        min_length=1,
        max_length=MAX_RULES,
        description=f"At most {MAX_RULES}: the engine gives each rule one bit of an integer.",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice; give each rule its own id")
            seen.add(rule.id)
        return self

    @property
    def active(self) -> tuple[_Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def severity_of(self, rule_id: str) -> int:
        return next(r.severity for r in self.rules if r.id == rule_id)

    def reason_for(self, rule_id: str) -> str:
        return reason_of(next(r for r in self.rules if r.id == rule_id))


def _lines(node: yaml.Node, path: tuple[object, ...], out: dict[tuple[object, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(loc: tuple[object, ...], lines: dict[tuple[object, ...], int]) -> int:
    """The line of the deepest part of ``loc`` found in the file (pydantic puts the union
    tag into the location; that part is skipped)."""
    path: tuple[object, ...] = ()
    best = lines.get((), 1)
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
            best = lines[path]
    return best


def _refuse_duplicate_ids(
    document: dict[str, object], lines: dict[tuple[object, ...], int], source: str
) -> None:
    rules = document.get("rules")
    if not isinstance(rules, list):
        return
    seen: set[object] = set()
    for index, rule in enumerate(rules):
        if isinstance(rule, dict) and "id" in rule:
            if rule["id"] in seen:
                line = lines.get(("rules", index, "id"), 1)
                raise RulesFileError(
                    f"{source}: line {line}: rules.{index}.id: rule id {rule['id']!r} is used "
                    "twice; give each rule its own id"
                )
            seen.add(rule["id"])


def parse_rules(text: str, *, source: str) -> RuleSet:
    """Parse and validate a rules document; ``RulesFileError`` names the line and reason."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise RulesFileError(
            f"{source}: line {line}: not valid YAML ({exc.problem or exc.context})"
        ) from None
    except yaml.YAMLError as exc:
        raise RulesFileError(f"{source}: not valid YAML ({exc})") from None
    if node is None or not isinstance(document, dict):
        raise RulesFileError(
            f"{source}: line 1: the file must be a mapping with version, window, alert_at "
            "and rules (see docs/klaxon-rules.md)"
        )
    lines: dict[tuple[object, ...], int] = {}
    _lines(node, (), lines)
    _refuse_duplicate_ids(document, lines, source)
    try:
        return RuleSet.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "kind")
        where = ".".join(str(p) for p in loc) or "the file"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise RulesFileError(
            f"{source}: line {_line_of(loc, lines)}: {where}: {message} "
            "(the schema is in docs/klaxon-rules.md)"
        ) from None


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules in ``path``, or the default rules shipped inside the package."""
    if path is None:
        text = (resources.files("safehold.klaxon") / DEFAULT_RULES).read_text(encoding="utf-8")
        return parse_rules(text, source=f"safehold.klaxon/{DEFAULT_RULES}")
    if not path.is_file():
        raise RulesFileError(f"{path} not found: give a rules file (YAML)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RulesFileError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    return parse_rules(text, source=str(path))
