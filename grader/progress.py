"""A one-line progress display on stderr, without a dependency.

On a terminal the line is redrawn in place (``\\r``); elsewhere (a log file,
CI) a line is printed at every tenth of the work, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """``done/total``, failures, elapsed time and an estimate of the time left."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.done = 0
        self.failed = 0
        self.start = time.perf_counter()
        self._last_tenth = 0
        self._shown = False
        if self.live:
            self._draw()

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        text = f"{self.label}: {self.done}/{self.total}"
        if self.failed:
            text += f", {self.failed} not graded"
        text += f", {_clock(elapsed)} elapsed"
        if 0 < self.done < self.total:
            text += f", about {_clock(elapsed / self.done * (self.total - self.done))} left"
        return text

    def advance(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        if self.live:
            self._draw()
        else:
            tenth = self.done * 10 // max(self.total, 1)
            if tenth > self._last_tenth:
                self._last_tenth = tenth
                print(self.line(), file=self.stream, flush=True)

    def write(self, message: str) -> None:
        """Print ``message`` on a line of its own without breaking the progress line."""
        if self.live and self._shown:
            self.stream.write("\r\x1b[K")
        print(message, file=self.stream, flush=True)
        if self.live and self._shown:
            self._draw()

    def close(self) -> None:
        if self.live and self._shown:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()
        self._shown = True
