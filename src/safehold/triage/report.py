"""The case report: ``report.json`` (validated by pydantic) and ``report.html``.

Why: the report is what an officer reads and what the case queue ranks; it carries hashes,
categories, paths, counts, times and reasons, and by construction no image data (there is
no field that could hold any, and the HTML is rendered from the same model, escaped).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, select_autoescape
from pydantic import BaseModel, ConfigDict

REPORT_VERSION = "1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArtifactRow(_Model):
    rows: int
    source_files: list[str]


class HashMatchRow(_Model):
    path: str
    hash: str
    algorithm: str
    list: str
    category: str
    raw_category: str


class NearDuplicateRow(_Model):
    path: str
    pdq: str
    matched_hash: str
    distance: int
    list: str
    category: str
    raw_category: str


class ConversationRow(_Model):
    conversation_id: str
    app: str
    counterpart: str
    messages: int
    first_at: str | None
    last_at: str | None
    likely_child: str
    child_age_band: str
    risk: float
    warned: bool
    stages: list[str]
    evidence_rows: list[str]


class IndicatorRow(_Model):
    indicator: str
    value: str
    evidence: list[str]


class DiscoveredRow(_Model):
    path: str
    table: str
    text_column: str
    time_column: str
    rows: int


class NotProcessedRow(_Model):
    path: str
    reason: str


class RegistryMatchRow(_Model):
    """A device contact the hub's registry check matched (police-side report only)."""

    address: str
    kind: str
    seen_in: list[str]
    typology: str | None


class TriageReport(_Model):
    report_version: str = REPORT_VERSION
    device: str
    extraction: str
    extraction_kind: str
    triaged_at: str
    latest_activity: str | None
    files: int
    bytes: int
    images_pdq_hashed: int
    hash_sets: list[str]
    artifacts: dict[str, ArtifactRow]
    messages: int
    calls: int
    contacts: int
    hash_matches: list[HashMatchRow]
    near_duplicates: list[NearDuplicateRow]
    conversations: list[ConversationRow]
    score: float
    score_parts: dict[str, float]
    reasons: list[str]
    indicators: list[IndicatorRow]
    not_processed: list[NotProcessedRow]
    discovered_chat_tables: list[DiscoveredRow] = []
    """Chat-shaped tables in databases no parser knows: listed for manual examination."""
    registry_checked: int | None = None
    """Distinct contact addresses checked against the registry; None: no hub was asked."""
    registry_matches: list[RegistryMatchRow] = []
    note: str = (
        "This score ranks work for examiners; it is not a finding. Every decision about a "
        "person is made by a person."
    )


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Triage report: {{ r.device }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>
<h1>Triage report: {{ r.device }}</h1>
<p>{{ r.note }}</p>
<p>Extraction {{ r.extraction }} ({{ r.extraction_kind }}), triaged {{ r.triaged_at }};
latest activity {{ r.latest_activity or "unknown" }}. {{ r.files }} files, {{ r.messages }}
messages, {{ r.calls }} calls, {{ r.contacts }} contacts.</p>
<h2>Score {{ "%.1f"|format(r.score) }}</h2>
<ul>{% for reason in r.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>
<h2>Indicators</h2>
<ul>{% for i in r.indicators %}<li><b>{{ i.indicator }}</b>: {{ i.value }}
<ul>{% for e in i.evidence %}<li>{{ e }}</li>{% endfor %}</ul></li>{% endfor %}</ul>
<h2>Artifacts</h2><table><tr><th>artifact</th><th>rows</th><th>source files</th></tr>
{% for name, a in r.artifacts.items() %}<tr><td>{{ name }}</td><td>{{ a.rows }}</td>
<td>{{ a.source_files|join(", ") }}</td></tr>{% endfor %}</table>
<h2>Known items ({{ r.hash_matches|length }})</h2><table>
<tr><th>path</th><th>hash</th><th>list</th><th>category</th></tr>
{% for m in r.hash_matches %}<tr><td>{{ m.path }}</td><td>{{ m.algorithm }} {{ m.hash }}</td>
<td>{{ m.list }}</td><td>{{ m.category }} ({{ m.raw_category }})</td></tr>{% endfor %}</table>
<h2>Near-duplicates ({{ r.near_duplicates|length }})</h2><table>
<tr><th>path</th><th>matched PDQ</th><th>distance</th><th>list</th><th>category</th></tr>
{% for m in r.near_duplicates %}<tr><td>{{ m.path }}</td><td>{{ m.matched_hash }}</td>
<td>{{ m.distance }}</td><td>{{ m.list }}</td><td>{{ m.category }} ({{ m.raw_category }})</td>
</tr>{% endfor %}</table>
<h2>Conversations with a likely child ({{ r.conversations|length }})</h2><table>
<tr><th>conversation</th><th>messages</th><th>why a child</th><th>risk</th><th>stages</th>
<th>evidence rows</th></tr>
{% for c in r.conversations %}<tr><td>{{ c.conversation_id }}</td><td>{{ c.messages }}</td>
<td>{{ c.likely_child }}</td><td>{{ "%.2f"|format(c.risk) }}{% if c.warned %} (warned){% endif %}</td>
<td>{{ c.stages|join(", ") }}</td><td>{{ c.evidence_rows|join(", ") }}</td></tr>{% endfor %}
</table>
{% if r.registry_checked is not none %}<h2>Registry matches among the device's contacts
({{ r.registry_matches|length }} of {{ r.registry_checked }} checked through the hub; confirm
with the registering member)</h2><table><tr><th>address</th><th>kind</th><th>seen in</th>
<th>typology</th></tr>{% for m in r.registry_matches %}<tr><td>{{ m.address }}</td>
<td>{{ m.kind }}</td><td>{{ m.seen_in|join(", ") }}</td><td>{{ m.typology or "not disclosed" }}</td>
</tr>{% endfor %}</table>{% endif %}
<h2>Other chat-shaped databases ({{ r.discovered_chat_tables|length }}; no parser: examine manually)</h2>
<table><tr><th>path</th><th>table</th><th>text column</th><th>time column</th><th>rows</th></tr>
{% for d in r.discovered_chat_tables %}<tr><td>{{ d.path }}</td><td>{{ d.table }}</td>
<td>{{ d.text_column }}</td><td>{{ d.time_column }}</td><td>{{ d.rows }}</td></tr>{% endfor %}
</table>
<h2>Not processed ({{ r.not_processed|length }})</h2><table><tr><th>path</th><th>reason</th></tr>
{% for n in r.not_processed %}<tr><td>{{ n.path }}</td><td>{{ n.reason }}</td></tr>{% endfor %}
</table></body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render_html(report: TriageReport) -> str:
    return _ENV.from_string(_HTML).render(r=report)


def write_report(report: TriageReport, out: Path) -> tuple[Path, Path]:
    """Write ``out/report.json`` and ``out/report.html`` (``out`` is created)."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    json_path.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def read_report(path: Path) -> TriageReport:
    return TriageReport.model_validate_json(path.read_text(encoding="utf-8"))
