"""The data dictionary (docs/data-dictionary.md), rendered from the models' own JSON Schema
so that the document, the exported schemas and the validators cannot disagree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from safehold.exchange.base import SCHEMA_VERSION
from safehold.exchange.behaviour import behaviour_features
from safehold.exchange.schema_export import EXPORTED_TYPES

_HEADER = """# Safehold exchange format {version}: data dictionary

Generated from `safehold.exchange` by `safehold schema dictionary`; do not edit by hand
(a test fails when this file and the models disagree). `safehold schema export DIR` writes
the same definitions as JSON Schema, one file per type.

Every record is validated strictly: unknown fields are rejected and ranges are checked.
Identifiers never travel in clear: people and accounts appear only as keyed pseudonyms
(`SubjectRef`), and dates about people are coarsened to the month.
"""

_CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("minLength", "min length {}"),
    ("maxLength", "max length {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "pattern `{}`"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _describe(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, list[str]]:
    """A readable type and its constraints for one JSON Schema property."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name, {})
        if "enum" in target:
            return f"{name}: " + ", ".join(f"`{v}`" for v in target["enum"]), []
        return name, []
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        kinds, constraints = [], []
        for option in options:
            kind, extra = _describe(option, defs)
            kinds.append(kind)
            constraints += extra
        nullable = len(options) < len(prop["anyOf"])
        return " or ".join(kinds) + (" or empty" if nullable else ""), constraints
    if "const" in prop:
        return f"`{prop['const']}`", []
    kind = str(prop.get("type", "any"))
    if kind == "array":
        inner, inner_constraints = _describe(prop.get("items", {}), defs)
        kind, constraints = f"list of {inner}", inner_constraints
    else:
        constraints = []
    if prop.get("format"):
        kind = f"{kind} ({prop['format']})"
    for key, template in _CONSTRAINTS:
        if key in prop:
            value = prop[key]
            constraints.append(template.format(f"{value:g}" if isinstance(value, float) else value))
    return kind, constraints


def _model_table(model: type[BaseModel]) -> list[str]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    lines = [f"## {model.__name__}", ""]
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    if doc:
        lines += [doc, ""]
    lines += ["| field | type | required | constraints | meaning |", "|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        if "x-group" in prop:
            continue  # behaviour features get their own table below
        kind, constraints = _describe(prop, defs)
        lines.append(
            f"| `{name}` | {_cell(kind)} | {'yes' if name in required else 'no'} "
            f"| {_cell(', '.join(constraints))} | {_cell(prop.get('description', ''))} |"
        )
    return [*lines, ""]


def _features_table() -> list[str]:
    features = behaviour_features()
    lines = [
        "## Behaviour features",
        "",
        f"{len(features)} features of `BehaviourRecord`, each optional (empty means the platform",
        "does not measure it) and counted over the record's period unless the unit says otherwise.",
        "",
        "| group | feature | unit | range | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in features:
        lines.append(
            f"| {f.group.value} | `{f.name}` | {f.unit.value} "
            f"| {f.minimum:g} to {f.maximum:g} | {_cell(f.meaning)} |"
        )
    return [*lines, ""]


def render_data_dictionary() -> str:
    lines = [_HEADER.format(version=SCHEMA_VERSION)]
    for model in EXPORTED_TYPES:
        lines += _model_table(model)
    lines += _features_table()
    return "\n".join(lines).rstrip() + "\n"
