"""The model card: one self-contained HTML page a non-statistician reads correctly, written
from the study summary (plots are inline SVG, no scripts, nothing fetched)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from safehold.research.charts import bar_chart, line_chart

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model card: {{ s.title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;background:{{ colour }};}
.plain{font-size:1.1em;background:#f4f4f4;padding:.8em 1em;border-left:4px solid #4a78b5}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1em}small{color:#555}code{font-size:.9em}
</style></head><body>
<h1>Model card: {{ s.title }}</h1>
<p><b>Question.</b> {{ s.question }}</p>
<p class="verdict"><b>Finding:</b> {{ s.verdict }}.
{% if s.gate.released %}A model is released to members, with this card.{% else %}<b>No model is released.</b>{% endif %}</p>

<h2>In plain words</h2>
<div class="plain">
<p>The flag is set so that it catches about {{ (sens * 10) | round(0) | int }} of every 10 {{ case_words }}.</p>
<p>If about {{ prevalence_words }} accounts really {{ case_verb }}, then <b>of every 100 accounts flagged at this
threshold, about {{ ppv100 }} would be {{ case_words }} and about {{ not100 }} would not</b>
(between {{ ppv_low100 }} and {{ ppv_high100 }} in 100, allowing for chance in this study).</p>
<p>To find one {{ case_word }}, about {{ flags_per_case }} accounts would be flagged and reviewed by a person.</p>
{% if not s.permutation_test.rejects %}<p>The behaviour of {{ case_words }} could not be told apart from that of the comparison
group any better than by chance: <b>no distinctive signal</b>.</p>{% endif %}
</div>

<h2>Release decision</h2>
{% if s.gate.released %}<p>Released: every pre-registered criterion was met.</p>{% else %}
<p>Not released, because:</p><ul>{% for r in s.gate.reasons_refused %}<li>{{ r }}</li>{% endfor %}</ul>{% endif %}
{% if s.gate.checks_passed %}<p><small>Criteria met: {{ s.gate.checks_passed | join("; ") }}.</small></p>{% endif %}

<h2>How well it separates (out-of-fold, 95% intervals)</h2>
<p><small>Every score comes from a model that never saw that person's accounts (grouped {{ s.prereg.folds }}-fold
cross-validation). AUROC 0.5 is chance, 1 is perfect. Intervals come from resampling people {{ s.prereg.bootstrap }} times.</small></p>
<table><tr><th>model</th><th>AUROC</th><th>average precision</th><th>Brier score</th><th>sensitivity</th>
<th>false-positive rate</th><th>PPV at {{ prevalence_pct }}</th><th>flags per true case</th></tr>
{% for name, m in s.models.items() %}<tr><td>{{ name }}{% if name == s.primary_model %} (primary){% endif %}</td>
{% for k in ["auroc","average_precision","brier","sensitivity","false_positive_rate","ppv_at_prevalence","flags_per_true_case"] %}
<td>{{ "%.3f" | format(m.metrics[k].value) }} <small>({{ "%.3f" | format(m.metrics[k].low) }} to {{ "%.3f" | format(m.metrics[k].high) }})</small></td>{% endfor %}</tr>{% endfor %}
</table>
<p><b>Does it transfer to a platform it never saw?</b> AUROC on each platform for a model trained on all the others:</p>
<table><tr><th>model</th>{% for p in platforms %}<th>{{ p }}</th>{% endfor %}</tr>
{% for name, m in s.models.items() %}<tr><td>{{ name }}</td>{% for p in platforms %}<td>{{ m.leave_one_platform_out_auroc[p] if m.leave_one_platform_out_auroc[p] is not none else "n/a" }}</td>{% endfor %}</tr>{% endfor %}</table>
<p><b>Any signal at all?</b> Permutation test ({{ s.permutation_test.permutations }} shuffles of the case labels among people):
observed AUROC {{ s.permutation_test.observed_auroc }} against {{ s.permutation_test.null_mean_auroc }} on average by chance
(95th percentile {{ s.permutation_test.null_95th_percentile }}); p = {{ s.permutation_test.p_value }}
({{ "rejects" if s.permutation_test.rejects else "does not reject" }} "no signal" at alpha {{ s.prereg.alpha }}).</p>
<div class="charts">{{ roc | safe }}{{ calib | safe }}</div>
<p><small>Calibration is shown for the study sample, where cases are about {{ sample_share }} of accounts; real-world
probabilities are far lower, which is why the PPV above is worked out for the stated prevalence.</small></p>

<h2>Fairness audit (at the threshold, primary model)</h2>
<p>Priority measure (pre-registered): <b>{{ s.fairness.priority_measure | replace("_", " ") }}</b>; groups must be within a
ratio of {{ s.prereg.fairness_minimum_ratio }} of each other.</p>
<ul>{% for d in s.fairness.largest_disparities %}<li>{{ d.words }}</li>{% endfor %}</ul>
{% for column, chart in group_charts %}<h3>By {{ column | replace("_", " ") }}</h3><div class="charts">{{ chart | safe }}</div>
<p><small>Calibration per group (study sample): mean score against the share of cases.</small></p>
<table><tr><th>group</th><th>mean score</th><th>share of cases</th></tr>
{% for g, c in s.fairness.groups[column].calibration_in_sample.items() %}<tr><td>{{ g }}</td><td>{{ "%.3f" | format(c.mean_score) }}</td><td>{{ "%.3f" | format(c.case_share) }}</td></tr>{% endfor %}</table>{% endfor %}

<h2>What drives the score</h2>
<p><small>Mean absolute SHAP value (how far each feature moves the log-odds, on average).</small></p>
{{ importance | safe }}

<h2>Study design</h2>
<ul>
<li>Cases: {{ s.cohort.case_accounts }} accounts; controls: {{ s.cohort.control_accounts }} accounts from the general population,
matched on {{ s.cohort.matched_on | join(", ") }} ({{ s.cohort.control_ratio }} per case); {{ s.cohort.people }} people in all.</li>
<li>Linkage: {{ s.linkage.method }}; {{ s.linkage.linked_labels }} of {{ s.linkage.labels }} records linked to {{ s.linkage.linked_accounts }} accounts
(match probability at least {{ s.linkage.threshold_match_probability }}, one to one per source and platform).
{% if s.linkage.quality %}Against the synthetic truth: of the accounts linked as cases, {{ "%.1f%%" | format(100 * s.linkage.quality.case_accounts.precision) }} truly were;
{{ "%.1f%%" | format(100 * s.linkage.quality.case_accounts.recall) }} of the true case accounts were found
(exact pseudonym matching alone: {{ "%.1f%%" | format(100 * s.linkage.quality.baseline_exact_pseudonyms.case_accounts.recall) }}).{% endif %}</li>
<li>Pre-registration SHA-256: <code>{{ s.prereg_sha256 }}</code>; prevalence {{ prevalence_pct }}, minimum PPV {{ "%.0f%%" | format(100 * s.prereg.minimum_ppv) }}.</li>
<li>Output checks: cohort table k-anonymous at k = {{ s.released_tables.cohort_make_up.k_anonymity.k }}
({{ s.released_tables.cohort_make_up.k_anonymity.rows_suppressed }} rows suppressed); counts per group released with
differential privacy, epsilon {{ s.released_tables.privacy_budget.spent }} of {{ s.released_tables.privacy_budget.total_epsilon }} spent.</li>
</ul>
<p><small>Synthetic data only. Every flag is for a person to review; no action follows from a score alone.</small></p>
</body></html>
"""

_CASE_WORDS = {
    "convicted_offender": (
        "people convicted of child sexual offences",
        "person convicted of such an offence",
        "belong to such people",
    ),
    "vulnerable_child": (
        "children known to children's services",
        "child who could be offered support",
        "belong to such children",
    ),
}


def render_model_card(s: dict[str, Any]) -> str:
    primary = s["models"][s["primary_model"]]
    metrics = primary["metrics"]
    ppv = metrics["ppv_at_prevalence"]
    case_words, case_word, case_verb = _CASE_WORDS[s["prereg"]["outcome"]]
    prevalence = float(s["prereg"]["prevalence"])
    roc = line_chart(
        "ROC curve",
        [(n, m["roc"]["fpr"], m["roc"]["tpr"], c) for (n, m), c in zip(s["models"].items(), ["#4a78b5", "#d0772b"], strict=False)],
        "false-positive rate", "sensitivity",
    )  # fmt: skip
    calib = line_chart(
        "Calibration",
        [(n, m["calibration"]["predicted"], m["calibration"]["observed"], c)
         for (n, m), c in zip(s["models"].items(), ["#4a78b5", "#d0772b"], strict=False)],
        "predicted probability", "observed share of cases",
    )  # fmt: skip
    group_charts = []
    for column, audit in s["fairness"]["groups"].items():
        if not audit["by_group"]:
            continue
        charts = []
        for measure in ("false_positive_rate", "false_negative_rate"):
            groups = [g for g, m in audit["by_group"].items() if measure in m]
            if not groups:
                continue
            charts.append(
                bar_chart(
                    measure,
                    [f"{g}: {measure.replace('_', ' ')}" for g in groups],
                    [audit["by_group"][g][measure]["value"] for g in groups],
                    [audit["by_group"][g][measure]["low"] for g in groups],
                    [audit["by_group"][g][measure]["high"] for g in groups],
                )
            )
        group_charts.append((column, "".join(charts)))
    top = s["feature_importance"]["features"][:15]
    importance = bar_chart(
        "feature importance",
        [f["feature"] for f in top],
        [f["mean_abs_shap"] for f in top],
        as_percent=False,
    )
    cases = s["cohort"]["case_accounts"]
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        s=s,
        colour="#e6f4e6" if s["gate"]["released"] else "#fbeaea",
        sens=metrics["sensitivity"]["value"],
        ppv100=_per_100(ppv["value"]),
        not100=_per_100(1 - ppv["value"]),
        ppv_low100=_per_100(ppv["low"]),
        ppv_high100=_per_100(ppv["high"]),
        flags_per_case=_round_flags(metrics["flags_per_true_case"]["value"]),
        prevalence_pct=f"{prevalence:.2%}",
        prevalence_words=_one_in(prevalence),
        case_words=case_words,
        case_word=case_word,
        case_verb=case_verb,
        platforms=sorted(primary["leave_one_platform_out_auroc"]),
        roc=roc,
        calib=calib,
        group_charts=group_charts,
        importance=importance,
        sample_share=f"{cases / (cases + s['cohort']['control_accounts']):.0%}",
    )


def _per_100(share: float) -> str:
    """Whole numbers when that is honest, one decimal for small figures (1.6, not 2)."""
    value = 100 * share
    return f"{value:.1f}" if value < 10 or value > 90 else f"{value:.0f}"


def _one_in(prevalence: float) -> str:
    return f"1 in {round(1 / prevalence):,}"


def _round_flags(value: float) -> str:
    if value == float("inf"):
        return "an unbounded number of"
    return f"{value:,.0f}"
