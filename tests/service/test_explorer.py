"""The article explorer page: served by the real service, driven in headless Chromium.

One server (with an API key, so the page's key prompt is exercised too) on a free
127.0.0.1 port. The browser test compares the DOM with the /analyze_article answer for the
same article, so it holds for any model; attribution, mentions, noise and warnings come
from the rule-based article pipeline and are also checked against fixed text.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from bench.headless import Chromium, find_chromium
from bench.server import serve
from service.explorer import EXPLORER_PATHS, explorer_page

API_KEY = "explorer-key-7"
TARGETS = ["the ferry terminal", "the port authority", "the ferry operator"]
# Written for this test: two speakers, quotes and reported speech, a dateline and site
# noise, an unclosed quotation mark and a target that is never mentioned.
ARTICLE = """\
Islanders split over new ferry terminal
HARBOURTON, 9 October 2025 (Coast Courier) -

Mayor Harald Lindqvist opened the new ferry terminal on Saturday in front of several hundred residents.

"The new ferry terminal is an important step for every family on the islands," Lindqvist told the crowd. "We welcome the shorter crossings."

Mr. Lindqvist said the port authority had delivered the project on time.

Fishermen's union leader Greta Holm said the ferry terminal was unacceptable because it had taken the best moorings. "We regret that nobody asked the fishermen," Holm said.

The terminal cost 40 million crowns. The mayor called it "a bridge for the islands.

Advertisement | Share this story | Subscribe
"""  # noqa: E501

# The DOM as data: every article segment with its offsets, classes and speaker/target.
SEGMENTS_JS = """[...document.querySelectorAll('#article > span')].map((s) => ({
  start: Number(s.dataset.start), end: Number(s.dataset.end), text: s.textContent,
  cls: s.className, speaker: s.dataset.speaker || null, target: s.dataset.target || null}))"""
ROWS_JS = """[...document.querySelectorAll('#stances tbody tr')].map((tr) => ({
  cells: [...tr.cells].map((c) => c.textContent), selected: tr.getAttribute('aria-current'),
  hidden: tr.hidden}))"""
EVIDENCE_JS = """[...document.querySelectorAll('#evidence li')].map((li) =>
  [Number(li.dataset.start), Number(li.dataset.end)])"""


def test_page_is_self_contained() -> None:
    page = explorer_page().decode()
    assert page.startswith("<!doctype html>")
    # Nothing loaded from elsewhere: no absolute or protocol-relative URLs, no external files.
    assert not re.findall(r"https?://|(?:src|href)\s*=\s*[\"']//", page)
    assert not re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=", page)
    assert EXPLORER_PATHS == ("/", "/explorer")


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The service with an API key, on the untrained tiny model."""
    from model import StanceClassifier
    from training.registry import register

    tag = register(StanceClassifier.load(model_dir), {})
    log = tmp_path_factory.mktemp("explorer") / "serve.log"
    env = {"STANCE_MODEL_TAG": tag, "STANCE_API_KEY": API_KEY, "STANCE_MAX_ARTICLE_CHARS": "3000"}
    with serve(env, log) as url:
        yield url


@pytest.mark.slow
def test_page_served_at_root_and_explorer_without_the_key(server: str) -> None:
    bodies = []
    for path in EXPLORER_PATHS:
        r = httpx.get(server + path, timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "connect-src 'self'" in r.headers["content-security-policy"]
        bodies.append(r.content)
    assert bodies == [explorer_page(), explorer_page()]
    # The data endpoints still need the key.
    assert httpx.get(f"{server}/model", timeout=30).status_code == 401


def _analysis(server: str) -> dict:
    r = httpx.post(
        f"{server}/analyze_article",
        json={"text": ARTICLE, "targets": TARGETS},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _runs(segments: list[dict], keep) -> list[list[int]]:
    """Merged [start, end) runs of the segments for which keep(segment) is true."""
    runs: list[list[int]] = []
    for s in segments:
        if not keep(s):
            continue
        if runs and runs[-1][1] == s["start"]:
            runs[-1][1] = s["end"]
        else:
            runs.append([s["start"], s["end"]])
    return runs


def _merged(spans) -> list[list[int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


@pytest.mark.slow
@pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium binary (install Debian's: apt-get install -y chromium)",
)
def test_explorer_in_headless_chromium(server: str) -> None:
    expected = _analysis(server)
    with Chromium.launch(width=1366, height=768) as browser:
        browser.goto(f"{server}/explorer")
        # /model answers 401, so the page asks for the key before anything is sent.
        browser.wait_for("!document.getElementById('key-row').hidden")
        browser.type_into("#text", ARTICLE)
        browser.type_into("#targets", "\n".join(TARGETS))
        browser.type_into("#apikey", API_KEY)
        browser.click("#analyze")
        browser.wait_for("document.querySelectorAll('#stances tbody tr').length > 0")

        # The whole article is rendered once, in order, cut at span edges.
        segments = browser.evaluate(SEGMENTS_JS)
        assert "".join(s["text"] for s in segments) == ARTICLE
        assert all(ARTICLE[s["start"] : s["end"]] == s["text"] for s in segments)

        # Table: one row per stance, in the response's order.
        rows = browser.evaluate(ROWS_JS)
        assert [r["cells"] for r in rows] == [
            [
                s["speaker"] or "(author)",
                s["target"],
                s["label"],
                f"{s['probabilities'][s['label']]:.2f}",
                str(s["mentions"]),
            ]
            for s in expected["stances"]
        ]
        assert [r["cells"][:2] for r in rows] == [
            ["Harald Lindqvist", "the ferry terminal"],
            ["Harald Lindqvist", "the port authority"],
            ["Greta Holm", "the ferry terminal"],
            ["(author)", "the ferry terminal"],
        ]

        # Speech coloured by speaker: exactly the response's spans and cues, per speaker.
        for name in ("Harald Lindqvist", "Greta Holm"):
            spans = [
                span
                for sp in expected["speeches"]
                if sp["speaker"] == name
                for span in [*sp["spans"], *([sp["cue"]] if sp["cue"] else [])]
            ]
            assert _runs(segments, lambda s, n=name: s["speaker"] == n) == _merged(spans)
        quoted = "".join(
            s["text"] for s in segments if "speech" in s["cls"] and s["speaker"] == "Greta Holm"
        )
        assert "We regret that nobody asked the fishermen" in quoted
        legend = browser.evaluate(
            "[...document.querySelectorAll('#legend li[data-speaker]')].map((li) => li.textContent)"
        )
        assert legend == [
            "Harald Lindqvist(Mayor, Lindqvist, Mr. Lindqvist, The mayor)",
            "Greta Holm(leader, Fishermen's union leader, Holm)",
        ]

        # Noise greyed out, target mentions underlined, warnings shown.
        noise = _runs(segments, lambda s: "noise" in s["cls"].split())
        assert noise == [[n["start"], n["end"]] for n in expected["noise"]]
        assert "Share this story" in ARTICLE[noise[-1][0] : noise[-1][1]]
        for target in expected["targets"]:
            underlined = _runs(segments, lambda s, t=target["name"]: s["target"] == t)
            assert underlined == _merged(target["mentions"])
            assert all("mention" in s["cls"] for s in segments if s["target"])
        terminal = _runs(segments, lambda s: s["target"] == "the ferry terminal")
        assert [ARTICLE[a:b] for a, b in terminal] == [
            "new ferry terminal",
            "new ferry terminal",
            "the ferry terminal",
            "The terminal",  # the short name of the target (model/article/references.py)
        ]
        warnings = browser.evaluate(
            "[...document.querySelectorAll('#warnings li')].map((li) => li.textContent)"
        )
        assert warnings == expected["warnings"]
        assert "target 'the ferry operator' is not mentioned in the article body" in warnings

        # A click selects a row and highlights exactly its evidence sentences.
        browser.click("#stances tbody tr[data-row='2']")
        browser.wait_for("document.querySelector(\"tr[data-row='2']\").ariaCurrent === 'true'")
        evidence = [[e["start"], e["end"]] for e in expected["stances"][2]["evidence"]]
        assert browser.evaluate(EVIDENCE_JS) == evidence
        segments = browser.evaluate(SEGMENTS_JS)
        assert _runs(segments, lambda s: "evidence" in s["cls"].split()) == _merged(evidence)
        assert evidence[0][0] == ARTICLE.index("Fishermen's union leader Greta Holm said")
        # ... and scrolls it into the article panel's view.
        browser.wait_for(
            "(() => { const a = document.getElementById('article').getBoundingClientRect();"
            " const e = document.querySelector('#article .evidence').getBoundingClientRect();"
            " return e.top >= a.top && e.bottom <= a.bottom; })()"
        )

        # Keyboard: arrow keys move between rows, Enter selects.
        browser.focus("#stances tbody tr[data-row='0']")
        browser.press("ArrowDown", "ArrowDown", 40)
        assert browser.evaluate("document.activeElement.dataset.row") == "1"
        browser.press("Enter", "Enter", 13)
        rows = browser.evaluate(ROWS_JS)
        assert [r["selected"] for r in rows] == ["false", "true", "false", "false"]
        evidence = [[e["start"], e["end"]] for e in expected["stances"][1]["evidence"]]
        assert browser.evaluate(EVIDENCE_JS) == evidence

        # The speaker filter matches any form of the name and hides the other rows.
        browser.type_into("#speaker", "mr. lindqvist")
        rows = browser.evaluate(ROWS_JS)
        assert [r["hidden"] for r in rows] == [False, False, True, True]

        # Over the service's limit (read from GET /model once the key is known): refused
        # on the page with the numbers, nothing sent.
        browser.wait_for("document.getElementById('model-info').textContent.includes('Model')")
        browser.evaluate("document.getElementById('text').value = 'x'.repeat(3001)")
        browser.click("#analyze")
        assert browser.evaluate("document.getElementById('status').textContent") == (
            "The article has 3001 characters; this service accepts at most 3000: split it or "
            "raise STANCE_MAX_ARTICLE_CHARS"
        )
        assert len(browser.evaluate(ROWS_JS)) == 4  # the previous analysis stays
