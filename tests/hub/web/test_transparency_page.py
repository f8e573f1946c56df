"""/transparency: public, shows each published figure with its epsilon and accuracy, and
serves stored figures: views neither spend budget nor change a single number."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from safehold.hub.transparency import GROUPS, Quarter, folder_of, ledger_path, publish
from tests.hub.conftest import Hub

FIGURE = re.compile(
    r'data-label="([^"]+)">\s*<td>[^<]*</td>\s*<td class="num value" data-value="(\d+)">'
    r'.*?data-epsilon="([0-9.]+)".*?data-accuracy="([0-9.]+)"',
    re.S,
)


def _figures(html: str) -> list[tuple[str, int, float, float]]:
    return [(m[0], int(m[1]), float(m[2]), float(m[3])) for m in FIGURE.findall(html)]


def test_without_a_release_the_page_says_so_without_sign_in(web_hub: Hub) -> None:
    page = web_hub.client.get("/transparency", follow_redirects=False)
    assert page.status_code == 200
    assert "No quarter has been published yet" in page.text
    assert not folder_of(web_hub.settings.data_dir).exists(), "a view made files"


def test_published_figures_are_shown_with_their_epsilon_and_never_redrawn(web_hub: Hub) -> None:
    with Session(web_hub.engine) as session:
        release = publish(
            session,
            web_hub.settings.data_dir,
            Quarter(2026, 3),
            now=datetime(2026, 12, 1, tzinfo=UTC),
            epsilon=0.4,
        )
    ledger = ledger_path(folder_of(web_hub.settings.data_dir))
    before = ledger.read_bytes()
    views = [web_hub.client.get("/transparency") for _ in range(5)]
    assert all(v.status_code == 200 for v in views)
    shown = [_figures(v.text) for v in views]
    assert len(shown[0]) == len(release.figures) == 15
    assert all(s == shown[0] for s in shown), "the figures changed between views"
    assert shown[0] == [
        (f.label, f.value, f.epsilon, round(f.accuracy, 3)) for f in release.figures
    ]
    assert {eps for _, _, eps, _ in shown[0]} == {0.4}
    assert "ε = 0.4" in views[0].text
    assert ledger.read_bytes() == before, "a page view spent budget"
    assert f"ε {GROUPS * 0.4:g}" in views[0].text  # the release's total
    assert "Content-Security-Policy" in views[0].headers
