"""The evaluation report as one short, self-contained HTML page (no external assets), so a
reviewer without the tooling can read the figures, their intervals and the split."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, StrictUndefined

LABELS: dict[str, str] = {
    "precision": "Precision",
    "recall": "Recall",
    "f05": "F0.5 (PAN 2012)",
    "auroc": "AUROC",
    "mean_messages_to_warning": "Mean messages to first warning (warned grooming)",
    "median_messages_to_warning": "Median messages to first warning (warned grooming)",
    "mean_messages_after_first_grooming": "Mean messages after the first grooming message",
    "median_messages_after_first_grooming": "Median messages after the first grooming message",
    "warned_before_harm_share": "Share of grooming warned before a meeting request",
    "ordinary_false_warnings_per_1000": "False warnings per 1,000 ordinary conversations",
    "hard_negative_false_warnings_per_1000": "False warnings per 1,000 hard negatives",
}

_TEMPLATE = """{% macro figures_table(figures) -%}
<table><tr><th>Figure</th><th>Value</th><th>Bootstrap 95% CI</th><th>Exact 95% CI</th><th>n</th></tr>
{% for name, e in figures.items() %}<tr><td>{{ label(name) }}</td><td class="n">{{ fmt(e.value) }}</td>
<td class="n">{{ fmt(e.low) }} to {{ fmt(e.high) }}</td>
<td class="n">{% if 'exact_low' in e %}{{ fmt(e.exact_low) }} to {{ fmt(e.exact_high) }}{% endif %}</td>
<td class="n">{{ e.n }}</td></tr>
{% endfor %}</table>
{%- endmacro %}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Safehold conversation risk model: held-out evaluation</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.met{color:#11661a;font-weight:bold}.miss{color:#a11;font-weight:bold}
small{color:#555}
</style></head><body>
<h1>Conversation risk model: held-out evaluation</h1>
<p>Figures on conversations written only in phrasing families the model never saw in
training, at the model's default threshold, with percentile bootstrap 95% intervals
({{ report.bootstrap.resamples }} resamples of conversations, seed
{{ report.bootstrap.seed }}) and, for proportions, exact (Clopper-Pearson) intervals,
which stay honest when nothing was seen. Synthetic data only.</p>
<h2>Acceptance targets</h2>
<table><tr><th>Figure</th><th>Target</th><th>Value</th><th>Met</th><th>Met at CI bound</th></tr>
{% for t in report.targets %}<tr><td>{{ label(t.figure) }}</td><td>{{ t.target }}</td>
<td class="n">{{ fmt(t.value) }}</td>
<td class="{{ 'met' if t.met else 'miss' }}">{{ 'yes' if t.met else 'no' }}</td>
<td class="{{ 'met' if t.met_at_ci_bound else 'miss' }}">{{ 'yes' if t.met_at_ci_bound else 'no' }}</td></tr>
{% endfor %}</table>
<h2>All held-out conversations</h2>
{{ figures_table(report.figures) }}
{% if report.figures_without_age_bands %}<h2>Same conversations, sender age bands hidden</h2>
<p>A robustness check: platforms often do not know ages.</p>
{{ figures_table(report.figures_without_age_bands) }}{% endif %}
<h2>Split</h2>
<table><tr><th>Fold</th><th>Trained on</th><th>Tested on</th><th>Training</th><th>Tested</th></tr>
{% for f in report.per_fold %}<tr><td>{{ f.fold }}</td><td>{{ f.train_families|join(', ') }}</td>
<td>{{ f.test_families|join(', ') }}</td><td class="n">{{ f.train_conversations }}</td>
<td class="n">{{ f.counts.conversations }}</td></tr>{% endfor %}</table>
<p><small>{{ report.split.method }}.</small></p>
<h2>Counts</h2>
<table><tr><th>Kind</th><th>Held-out conversations</th></tr>
{% for kind, n in report.counts.by_kind.items() %}<tr><td>{{ kind }}</td><td class="n">{{ n }}</td></tr>{% endfor %}
</table>
<h2>Per test family</h2>
{% for family, part in report.per_family.items() %}<h3>{{ family }}
<small>({{ part.counts.conversations }} conversations)</small></h3>
{{ figures_table(part.figures) }}{% endfor %}
{% if settings_text %}<h2>Settings</h2><pre>{{ settings_text }}</pre>{% endif %}
</body></html>
"""


def label(name: str) -> str:
    """A reader's name for a figure key (per-kind hard-negative keys included)."""
    if name.endswith("]") and "[" in name:
        base, kind = name[:-1].split("[", 1)
        return f"{LABELS.get(base, base)}: {kind.removeprefix('hard_negative_')}"
    return LABELS.get(name, name)


def fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render_html(report: Mapping[str, Any]) -> str:
    """The report page; every value is escaped (autoescape on)."""
    env = Environment(autoescape=True, undefined=StrictUndefined)
    settings = report.get("settings")
    return env.from_string(_TEMPLATE).render(
        report=report,
        label=label,
        fmt=fmt,
        settings_text=json.dumps(settings, indent=2) if settings else "",
    )
