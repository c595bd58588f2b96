"""Which widget notebooks the browser test opens, and what it does to each widget.

One row per widget. ``test_browser_widgets.py`` opens the notebook in
JupyterLab, runs every cell, finds the widget by its root selector, does each
step in turn (moving a slider with the arrow keys, clicking a checkbox, picking
a dropdown option, pressing play) and asserts that the plot redrew after each.
``benchmarks/widget_latency.py`` times the redraw after a slider step.
A row whose notebook does not exist yet is skipped with a reason naming it.

Controls are found by their ``description`` label (a regular expression that
must match the whole label); Play widgets, which show no label, by position.
"""
from __future__ import annotations

from lab_harness import Choose, Play, Scenario, Slide, Toggle

SCENARIOS = [
    # A small ipympl figure made for this test: proves the harness on any branch.
    Scenario(
        name="fixture_ipympl_slider",
        notebook="tests/browser/fixtures/ipympl_slider.ipynb",
        root=".dl-fixture-explorer",
        steps=(Slide("β"), Toggle("bias correction")),
    ),
    # Week 1's initialization explorer: one ipympl figure redrawn in place.
    Scenario(
        name="week1_initialization",
        notebook="solutions/week1/02_initialization.ipynb",
        root=".dl-init-explorer",
        steps=(Slide("scale"), Slide("depth"), Choose("initializer", "He")),
    ),
    Scenario(
        name="week2_ewma_explorer",
        notebook="solutions/week2/06_exponentially_weighted_averages.ipynb",
        root=".dl-ewma-explorer",
        steps=(Slide("β|beta"), Toggle("bias correction"), Slide("t")),
    ),
    Scenario(
        name="week2_optimizer_explorer",
        notebook="solutions/week2/07_optimizers.ipynb",
        root=".dl-optimizer-explorer",
        steps=(Slide("learning rate.*"), Slide("(β|beta).*"), Choose("surface"), Play()),
        latency="learning rate.*",
    ),
]
