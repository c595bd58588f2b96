"""A widget on ipympl's real canvas without a browser: the frames it would send are recorded instead."""
import matplotlib.pyplot as plt
import numpy as np


def on_ipympl(make):
    """``make()`` called under ipympl's backend; returns ``(widget, frames)``, frames the images sent so far."""
    plt.switch_backend("module://ipympl.backend_nbagg")
    try:
        widget = make()
    finally:
        plt.switch_backend("Agg")
    canvas = widget.fig.canvas
    canvas.syncing_data_url = False  # as once a browser has shown the widget
    frames = []
    canvas.send_binary = frames.append
    return widget, frames


def pixels(canvas):
    return np.asarray(canvas.get_renderer().buffer_rgba()).copy()
