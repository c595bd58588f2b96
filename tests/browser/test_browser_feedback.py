"""Feedback pages typeset their formulas with the network off, in headless Chromium.

Two pages: the feedback ``grader feedback`` writes for a graded demo student
(nbgrader's feedback template, formulas of the test course), and the course's
own ``01_setting_up`` (the notebook with ``$n_\\text{dev}$``) rendered the
same way, so every formula students read is checked. Chromium runs offline
and every request other than the page itself is refused and recorded: a page
that needed MathJax from a CDN would show raw TeX and fail here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from lab_harness import REPO, SCREENSHOTS

sys.path.insert(0, str(REPO / "tests" / "grader"))
from grader_testkit import FORMULAS, make_course, run_cli  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What the page shows: formulas laid out as MathML (not text), where, and any TeX left as text.
MEASURE = """() => {
  const maths = [...document.querySelectorAll('math')];
  const laidOut = maths.filter(m => { const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  const displays = [...new Set(maths.map(m => getComputedStyle(m).display))];
  const fractions = [...document.querySelectorAll('mfrac')].map(f => {
    const [num, den] = f.children;
    return num.getBoundingClientRect().bottom <= den.getBoundingClientRect().top + 1;
  });
  const prose = [...document.querySelectorAll('.text_cell_render, .jp-RenderedMarkdown')]
    .map(e => { const c = e.cloneNode(true); c.querySelectorAll('code, pre').forEach(x => x.remove()); return c.innerText; })
    .join('\\n');
  return {count: maths.length, laidOut: laidOut.length, displays, fractions, prose};
}"""

RAW_TEX = re.compile(r"\$[^$\n]*\\[A-Za-z]+|\\(?:frac|text|sum|beta|alpha)\b")


def _open_offline(browser, page_path: Path, screenshot: str) -> tuple[dict, list[str]]:
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    requested: list[str] = []

    def refuse(route):
        if route.request.url != page_path.as_uri():
            requested.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", refuse)
    try:
        page = context.new_page()
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)  # any script that was going to typeset has had its chance
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=False)
        return page.evaluate(MEASURE), requested
    finally:
        context.close()


def _assert_typeset(measured: dict, expected: int, requested: list[str]) -> None:
    assert requested == [], f"the page asked the network for {requested}"
    _assert_laid_out(measured, expected)


def _assert_laid_out(measured: dict, expected: int) -> None:
    assert measured["count"] == expected, measured
    assert measured["laidOut"] == expected  # every formula takes room on the page
    assert all("math" in d for d in measured["displays"]), measured["displays"]  # Chromium lays it out as MathML
    assert measured["fractions"] and all(measured["fractions"])  # numerators sit above denominators
    leftovers = RAW_TEX.findall(measured["prose"])
    assert not leftovers, f"raw TeX on the page: {leftovers[:5]}"


def test_feedback_page_typesets_its_formulas_offline(browser, tmp_path):
    from grader.notebooks import make_submission, write_notebook

    course = make_course(tmp_path / "repo")
    ws = tmp_path / "ws"
    assert run_cli("init", ws, "--source", course / "solutions", root=course).returncode == 0
    folder = ws / "submitted/alice/demo"
    folder.mkdir(parents=True)
    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        write_notebook(make_submission(ws / "release/demo" / name, ws / "source/demo" / name), folder / name)
    done = run_cli("autograde", "demo", "--workspace", ws)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_cli("feedback", "demo", "--workspace", ws)
    assert done.returncode == 0, done.stdout + done.stderr

    measured, requested = _open_offline(browser, ws / "feedback/alice/demo/01_demo.html", "feedback-math-demo.png")
    _assert_typeset(measured, FORMULAS, requested)
    assert "dev" in measured["prose"] and "n_" not in measured["prose"]


def test_the_course_formulas_typeset_offline(browser, tmp_path):
    """Every formula of 01_setting_up, through nbconvert's classic page and the feedback finish."""
    from nbconvert import HTMLExporter

    from grader.feedback import finish_page
    from grader.mathml import FORMULA
    from grader.notebooks import read_notebook

    nb = read_notebook(REPO / "solutions/week1/01_setting_up.ipynb")
    expected = sum(len(FORMULA.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")
    assert expected > 20
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert "n_\\text{dev}" in html and "mathjax" in html.lower()  # what nbconvert alone would ship
    page, untypeset = finish_page(html)
    assert untypeset == []
    path = tmp_path / "01_setting_up.html"
    path.write_text(page, encoding="utf-8")

    measured, requested = _open_offline(browser, path, "feedback-math-01_setting_up.png")
    # nbconvert's classic page also asks for jQuery, require.js and mermaid (refused here; nbgrader's
    # feedback page, above, asks for nothing): none of them is needed for the math
    assert not [url for url in requested if "mathjax" in url.lower()], requested
    _assert_laid_out(measured, expected)
