"""Measure how long a widget takes to redraw after its slider moves, in a real browser.

    .venv/bin/python benchmarks/widget_latency.py [--repeat N] [SCENARIO ...]

Starts JupyterLab and headless Chromium exactly as the browser tests do
(tests/browser/lab_harness.py), opens each widget notebook of
tests/browser/widget_scenarios.py that exists, runs it, and presses an arrow
key on the widget's slider N times (right, left, right, ...). Each latency is
the time from the key's keydown event in the page to the first animation
frame in which the plot's pixels differ: the whole round trip (widget message
to the kernel, Python callback, matplotlib render, image back, drawn into the
canvas). Frames come every ~16.7 ms, so that is the resolution. Prints
n, median and 90th percentile per widget. Nothing is written.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from lab_harness import chromium, find_chromium, lab_server, new_page, open_and_run, wait_until_stable  # noqa: E402
from widget_scenarios import SCENARIOS  # noqa: E402


def measure(page, root, plot: str, slider, repeat: int, warmup: int = 2) -> list[float]:
    handle = slider.handle(root)
    # Start towards the side the slider can move (ArrowLeft if it sits at its right end).
    slider.perform(root)
    wait_until_stable(root, plot, quiet=0.3)
    keys = ("ArrowLeft", "ArrowRight")
    latencies = []
    for press in range(warmup + repeat):
        root.evaluate("(root, [selector, target]) => window.__dlArmLatency(root, selector, target)",
                      [plot, handle.element_handle()])
        handle.focus()
        handle.press(keys[press % 2])
        latency = page.evaluate("() => window.__dlLatency")
        if latency is None:
            raise RuntimeError(f"slider {slider.description!r}: the plot did not change within 10 s of a key press")
        if press >= warmup:
            latencies.append(latency)
        wait_until_stable(root, plot, quiet=0.3)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help="names from widget_scenarios.py (default: all that exist)")
    parser.add_argument("--repeat", type=int, default=20, help="timed key presses per widget (default 20)")
    args = parser.parse_args()
    known = {s.name: s for s in SCENARIOS}
    unknown = [name for name in args.scenarios if name not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {sorted(known)}")
    chosen = [known[name] for name in args.scenarios] or SCENARIOS
    for scenario in chosen:
        if not scenario.path.exists():
            print(f"skipped {scenario.name}: {scenario.notebook} does not exist", file=sys.stderr)
        elif scenario.latency_slider is None:
            print(f"skipped {scenario.name}: it has no slider to time", file=sys.stderr)
    chosen = [s for s in chosen if s.path.exists() and s.latency_slider is not None]
    executable = find_chromium()
    if executable is None:
        sys.exit("no Chromium executable found (install Debian's `chromium`, or set CHROMIUM=/path)")

    rows = []
    with lab_server([s.path for s in chosen]) as server, chromium(executable) as browser:
        for scenario in chosen:
            page = new_page(browser)
            try:
                started = time.perf_counter()
                open_and_run(page, server, scenario.notebook, scenario.root)
                root = page.locator(scenario.root).first
                root.scroll_into_view_if_needed()
                wait_until_stable(root, scenario.plot)
                print(f"{scenario.name}: notebook ran in the browser in {time.perf_counter() - started:.1f} s",
                      file=sys.stderr)
                slider = scenario.latency_slider
                latencies = measure(page, root, scenario.plot, slider, args.repeat)
                rows.append((f"{scenario.name} ({slider.description})", latencies))
            finally:
                page.context.close()
                server.shutdown_kernels()

    print(f"{'widget (slider)':<48} {'n':>4} {'median ms':>10} {'p90 ms':>8}")
    for name, latencies in rows:
        print(f"{name:<48} {len(latencies):>4} {statistics.median(latencies):>10.0f} "
              f"{percentile(latencies, 0.9):>8.0f}")


if __name__ == "__main__":
    main()
