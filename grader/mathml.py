"""Formulas in rendered notebook pages as MathML: math that shows offline, in one file.

nbconvert leaves the TeX of markdown cells in the page (``$n_\\text{dev}$``,
``$$...$$``) for MathJax, which its template loads from a CDN: offline, or in
a mail client, students see raw TeX. :func:`typeset_page` converts every
formula of the markdown cells to MathML with ``latex2mathml`` (pure Python)
and drops the MathJax scripts, so the page needs nothing but itself; every
current browser (Chrome/Edge 109+, Firefox, Safari) lays out MathML natively.
Code, ``<pre>`` blocks and outputs are left alone. A formula the converter
cannot read stays as its TeX in ``<code class="tex">`` and is returned, so
the caller can say which.

Only the markdown cells are parsed (a page is mostly inlined CSS and base64
images: parsing all of it took seconds per notebook).
"""

from __future__ import annotations

import re

# After nbconvert's markdown filter, \( \) and \[ \] are already $ and $$.
FORMULA = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\s](?:[^$]*?[^$\s\\])?)\$", re.S)
# Where a markdown cell's HTML starts (classic and lab templates); it ends at the matching </div>.
MARKDOWN_START = re.compile(r'<div\b[^>]*\bclass="[^"]*\b(?:text_cell_render|jp-RenderedMarkdown)\b[^"]*"[^>]*>')
DIV_TAG = re.compile(r"<(/?)div\b", re.I)
MATHJAX = re.compile(
    r"<!--[^>]*?mathjax[^>]*?-->\s*|<script\b[^>]*\bsrc=\"[^\"]*mathjax[^\"]*\"[^>]*>.*?</script>\s*"
    r"|<script\b[^>]*type=\"text/x-mathjax-config\"[^>]*>.*?</script>\s*",
    re.I | re.S,
)
LEAVE_ALONE = {"code", "pre", "script", "style", "math", "kbd", "samp", "textarea"}
STYLE = "<style>math[display=block]{margin:0.6em 0;overflow-x:auto}</style>"

# Delimiters latex2mathml passes through as text after a size command (\big\lVert): the same glyphs.
ALIAS = re.compile(r"\\(?:[lr]?Vert(?![A-Za-z])|\|)|\\[lr]?vert(?![A-Za-z])")
# Text-mode escapes (\texttt{keep\_prob}) latex2mathml leaves in its <mtext>.
TEXT_ESCAPE = re.compile(r"\\([_%&#${}])")


def to_mathml(tex: str, *, display: bool = False) -> str:
    from latex2mathml.converter import convert

    tex = ALIAS.sub(lambda m: "|" if m.group(0).endswith("vert") else "\u2016", tex.strip())
    return TEXT_ESCAPE.sub(r"\1", convert(tex, display="block" if display else "inline"))


def typeset_page(page: str) -> tuple[str, list[str]]:
    """``page`` (HTML) with markdown formulas as MathML and no MathJax; and the formulas left as TeX."""
    page = MATHJAX.sub("", page)
    if "</head>" in page:
        page = page.replace("</head>", STYLE + "</head>", 1)
    failed: list[str] = []
    parts: list[str] = []
    last = 0
    for start, end in _markdown_cells(page):
        parts.append(page[last:start])
        fragment = page[start:end]
        parts.append(_typeset_fragment(fragment, failed) if "$" in fragment else fragment)
        last = end
    parts.append(page[last:])
    return "".join(parts), failed


def _markdown_cells(page: str):
    """(start, end) of each markdown cell's HTML: its opening div to the matching closing one."""
    position = 0
    while True:
        match = MARKDOWN_START.search(page, position)
        if match is None:
            return
        depth, end = 1, None
        for tag in DIV_TAG.finditer(page, match.end()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                end = page.index(">", tag.end()) + 1
                break
        if end is None:
            return
        yield match.start(), end
        position = end


def _typeset_fragment(fragment: str, failed: list[str]) -> str:
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(fragment, "html.parser")
    for text in list(soup.find_all(string=True)):
        if "$" not in text or any(p.name in LEAVE_ALONE for p in text.parents):
            continue
        pieces = []
        last = 0
        for match in FORMULA.finditer(text):
            pieces.append(NavigableString(text[last : match.start()]))
            tex = match["display"] if match["display"] is not None else match["inline"]
            try:
                node = BeautifulSoup(to_mathml(tex, display=match["display"] is not None), "html.parser")
                if "\\" in node.get_text():  # latex2mathml passes what it does not know through as text
                    raise ValueError("a command the converter does not know")
                node.find("math")["alttext"] = tex.strip()  # what screen readers and copy-paste get
            except Exception:  # latex2mathml raises many kinds; the TeX stays readable
                failed.append(tex.strip())
                node = soup.new_tag("code", attrs={"class": "tex"})
                node.string = match.group(0)
            pieces.append(node)
            last = match.end()
        if not pieces:
            continue
        pieces.append(NavigableString(text[last:]))
        for piece in pieces:
            text.insert_before(piece)
        text.extract()
    return str(soup)
