"""What the instructor CLI prints: where messages go, numbers and tables. One copy for every command."""
from __future__ import annotations

import sys
from collections.abc import Callable

# Commands take ``echo`` (results, stdout) and ``warn`` (problems and progress, stderr) callables,
# so tests and parallel workers can collect what they print.
Echo = Callable[[str], None]


def stderr(message: str) -> None:
    print(message, file=sys.stderr)


def number(value: float | int | None) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5 (rounded to 6 decimals), ``0`` for None."""
    v = round(float(value or 0), 6)
    return str(int(v)) if v.is_integer() else repr(v)


def format_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Plain-text columns separated by two spaces (the last column is not padded)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [str(v).ljust(w) for v, w in zip(row[:-1], widths[:-1], strict=True)] + [str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    return lines
