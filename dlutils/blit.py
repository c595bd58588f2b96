"""Blitting for the course's ipympl widgets: a slider move redraws only what moves.

A full render of a figure with contours, ticks and text costs ~100 ms on a
small machine; most of it never changes when a slider moves. :class:`Blitter`
keeps the unchanging part as a cached background: after every full draw (first
display, surface change, resize, dpi change) it copies the figure's pixels
without the moving ("animated") artists, then draws those on top. An update
restores that background, draws the moving artists and sends the frame
(``canvas.blit``), a few milliseconds instead of a full render.

ipympl's canvas (a matplotlib WebAgg canvas) has working ``copy_from_bbox``,
``restore_region`` and ``blit`` (which sends the new frame to the browser at
once) although it leaves ``supports_blit`` False; blitting is used on it and
on nothing else. Every other canvas (Agg in tests, the static-image fallback)
gets the ordinary ``draw_idle``, so artists stay non-animated and every
savefig shows them.

A figure whose unchanging part itself depends on a few control values (06's
explorer: the weights panel's y-limits depend on beta) passes ``key=`` to
``update``: one background is kept per key, so going back to a value seen
before is a blit too, and only a new key costs a full draw.
"""

import sys


def _is_ipympl_canvas(canvas):
    # Never import ipympl here: importing it switches matplotlib's backend. An
    # ipympl canvas exists only once its module is loaded.
    module = sys.modules.get("ipympl.backend_nbagg")
    return module is not None and isinstance(canvas, module.Canvas)


class Blitter:
    """Redraw ``artists`` of ``fig`` by blitting over a cached background when the canvas allows it.

    enabled: whether blitting is used (``blit=None`` decides from the canvas:
    ipympl's yes, others no). ``update(key=None)`` after changing the artists;
    ``key`` names what the background looks like (any hashable), so several
    backgrounds can be kept (at most ``max_backgrounds``, the oldest dropped
    first). ``invalidate()`` after changing anything else (contours, limits,
    suptitle) without a new key: the next update is then a full draw, which
    recaptures the background. ``full_draws`` and ``blits`` count what updates did.
    """

    def __init__(self, fig, artists, *, blit=None, max_backgrounds=32):
        self.fig = fig
        self.artists = sorted(artists, key=lambda artist: artist.get_zorder())  # drawn in zorder, like a full draw
        self.enabled = _is_ipympl_canvas(fig.canvas) if blit is None else bool(blit)
        self.backgrounds = {}  # key -> the pixels of a full draw without the artists
        self.max_backgrounds = max_backgrounds
        self._key = None
        self._size = None
        self.full_draws = 0
        self.blits = 0
        self._cid = None
        if self.enabled:
            for artist in self.artists:
                artist.set_animated(True)
            self._cid = fig.canvas.mpl_connect("draw_event", self._on_draw)

    @property
    def background(self):
        """The background of the current key, or None until a full draw has captured it."""
        return self.backgrounds.get(self._key)

    def _on_draw(self, event):
        """After a full draw (animated artists left out): keep its pixels, then draw the artists on top."""
        size = tuple(self.fig.bbox.size)  # a savefig at another dpi draws at another size
        if size != self._size:
            self.backgrounds.clear()
            self._size = size
        self.backgrounds.pop(self._key, None)
        while len(self.backgrounds) >= self.max_backgrounds:
            self.backgrounds.pop(next(iter(self.backgrounds)))
        self.backgrounds[self._key] = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self._draw_artists()

    def _draw_artists(self):
        for artist in self.artists:
            self.fig.draw_artist(artist)

    def invalidate(self):
        """The background changed: the next update draws everything and recaptures it."""
        self.backgrounds.clear()

    def update(self, key=None):
        canvas = self.fig.canvas
        self._key = key
        background = self.backgrounds.get(key)
        if not self.enabled or background is None or self._size != tuple(self.fig.bbox.size):
            self.full_draws += 1
            canvas.draw_idle()
            return
        canvas.restore_region(background)
        self._draw_artists()
        canvas.blit(self.fig.bbox)
        self.blits += 1

    def disconnect(self):
        if self._cid is not None:
            self.fig.canvas.mpl_disconnect(self._cid)
            self._cid = None
