"""Measure what one slider move of the optimizer-path explorer costs in the kernel.

    .venv/bin/python benchmarks/optimizer_explorer.py [--repeat N]

A learning-rate change recomputes the four paths with the student's functions
(here the reference solutions of 07_optimizers), moves the existing lines, and
then ipympl renders the figure with Agg and sends the PNG. This prints the
median time of each part: path math, line updates, a full Agg render and PNG
encoding (what ipympl does per frame; the browser's own work is extra).
Moving the "at step" slider skips the path math. Nothing is written.

In the browser a slider move no longer pays the full render: on ipympl the
explorer blits (dlutils.blit), so the Agg render and full PNG below are paid
only on a surface change or a resize; benchmarks/widget_latency.py
times the whole round trip.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the tests' helper that loads reference solutions

from dlutils import optimizer_explorer as oe  # noqa: E402
from reference_functions import load_reference_functions  # noqa: E402
NOTEBOOK = REPO / "solutions" / "week2" / "07_optimizers.ipynb"


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    reference = load_reference_functions(NOTEBOOK)
    functions = {name: reference[name] for name in oe.FUNCTION_NAMES}
    explorer = oe.OptimizerExplorer(**functions)
    explorer._image = None  # measure the live (ipympl) path: no static PNG fallback
    canvas = explorer.fig.canvas
    canvas.draw_idle = lambda *a, **k: None  # the render is timed separately below
    rates = iter([0.05, 0.1, 0.2, 0.3] * args.repeat)

    print(f"{explorer.num_steps} steps per path, 4 optimizers, surface '{explorer.surface.value}'")
    for surface in oe.SURFACES:
        paths = median_ms(lambda: oe.all_paths(functions, surface, oe.SURFACES[surface].start, explorer.num_steps,
                                               learning_rate=0.1), args.repeat)
        print(f"  path math, {surface:<16} {paths:6.1f} ms")
    print(f"  slider move (paths + lines)    {median_ms(lambda: setattr(explorer.learning_rate, 'value', next(rates)), args.repeat):6.1f} ms")
    steps = iter(list(range(0, 200, 7)) * args.repeat)
    print(f"  step move (lines only)         {median_ms(lambda: setattr(explorer.step, 'value', next(steps)), args.repeat):6.1f} ms")

    def render():
        type(canvas).draw(canvas)

    def encode():  # ipympl sends the rendered buffer as a PNG
        Image.fromarray(np.asarray(canvas.buffer_rgba())).save(io.BytesIO(), format="png")

    print(f"  Agg render (per frame)         {median_ms(render, args.repeat):6.1f} ms")
    print(f"  PNG encoding (per frame)       {median_ms(encode, args.repeat):6.1f} ms")
    explorer.close()


if __name__ == "__main__":
    main()
