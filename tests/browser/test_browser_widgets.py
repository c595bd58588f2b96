"""The widgets work in a real browser: JupyterLab in headless Chromium, driven like a person.

For each row of ``widget_scenarios.SCENARIOS``: open the notebook, Run > Run All
Cells, find the widget, then move each control in turn and assert that the
plot's pixels change. Screenshots of the widget before and after every step
land in ``artifacts/screenshots/`` (a full-page one, ``*-failure.png``, when a
step fails). One JupyterLab server and one browser serve the whole module.

Needs a Chromium executable (Debian's ``chromium``; ``.ci/run`` installs it):
skipped, saying so, when none is found. Set ``CHROMIUM=/path/to/chrome`` to
choose one.
"""
from __future__ import annotations

import pytest

from lab_harness import (SCREENSHOTS, Slide, lab_server, new_page, open_and_run,
                         run_step, screenshot, signature, slug, wait_until_stable)
from widget_scenarios import SCENARIOS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(browser):
    """One JupyterLab for the module, serving copies of every scenario notebook that exists."""
    with lab_server([s.path for s in SCENARIOS if s.path.exists()]) as server:
        yield server


@pytest.mark.parametrize("scenario", [
    pytest.param(s, id=s.name, marks=pytest.mark.skipif(not s.path.exists(), reason=f"{s.notebook} does not exist yet"))
    for s in SCENARIOS
])
def test_widget_redraws_when_its_controls_move(scenario, browser, lab):
    failure = SCREENSHOTS / f"{scenario.name}-failure.png"
    failure.unlink(missing_ok=True)
    page = new_page(browser)
    try:
        open_and_run(page, lab, scenario.notebook, scenario.root)
        root = page.locator(scenario.root).first
        root.scroll_into_view_if_needed()
        start = wait_until_stable(root, scenario.plot)
        assert start not in ("none", "empty") and not start.startswith("unsupported"), (
            f"{scenario.root} shows no plot at {scenario.plot!r} (found: {start})")
        screenshot(root, f"{scenario.name}-00-initial")
        for number, step in enumerate(scenario.steps, 1):
            run_step(root, scenario.plot, step)
            screenshot(root, f"{scenario.name}-{number:02d}-{step.kind}-{slug(getattr(step, 'description', ''))}")
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(failure), full_page=True)
        raise
    finally:
        page.context.close()
        lab.shutdown_kernels()


def test_a_control_that_redraws_nothing_fails_the_step(browser, lab):
    """The test can fail: the fixture's `unwired` slider moves, its plot does not, and run_step says so."""
    fixture = next(s for s in SCENARIOS if s.name == "fixture_ipympl_slider")
    page = new_page(browser)
    try:
        open_and_run(page, lab, fixture.notebook, fixture.root)
        root = page.locator(fixture.root).first
        with pytest.raises(AssertionError, match=r"slider 'unwired': 5 -> 8 .*did not change"):
            run_step(root, fixture.plot, Slide("unwired"), timeout=2)
    finally:
        page.context.close()
        lab.shutdown_kernels()


def test_signature_tells_different_plots_apart(browser):
    """The change detector itself: same pixels, same signature; one pixel changed, another."""
    page = new_page(browser)
    try:
        page.set_content("<div id=root><canvas width=40 height=30></canvas></div>")
        root = page.locator("#root")
        blank = signature(root, "canvas")
        assert blank == signature(root, "canvas")
        page.evaluate("() => document.querySelector('canvas').getContext('2d').fillRect(39, 29, 1, 1)")
        assert signature(root, "canvas") != blank
        assert signature(root, "img") == "none"
    finally:
        page.context.close()
