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
"""

from __future__ import annotations

import re

# After nbconvert's markdown filter, \( \) and \[ \] are already $ and $$.
FORMULA = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\s](?:[^$]*?[^$\s\\])?)\$", re.S)
MARKDOWN = ".text_cell_render, .jp-RenderedMarkdown"
LEAVE_ALONE = {"code", "pre", "script", "style", "math", "kbd", "samp", "textarea"}
STYLE = "math[display=block]{margin:0.6em 0;overflow-x:auto}"


# Delimiters latex2mathml passes through as text after a size command (\big\lVert): the same glyphs.
ALIAS = re.compile(r"\\(?:[lr]?Vert(?![A-Za-z])|\|)|\\[lr]?vert(?![A-Za-z])")


def to_mathml(tex: str, *, display: bool = False) -> str:
    from latex2mathml.converter import convert

    tex = ALIAS.sub(lambda m: "|" if m.group(0).endswith("vert") else "\u2016", tex.strip())
    return convert(tex, display="block" if display else "inline")


def typeset_page(page: str) -> tuple[str, list[str]]:
    """``page`` (HTML) with markdown formulas as MathML and no MathJax; and the formulas left as TeX."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    failed = typeset(soup)
    return str(soup), failed


def typeset(soup) -> list[str]:
    """:func:`typeset_page` on a parsed page (a ``BeautifulSoup``), in place; returns the formulas left as TeX."""
    from bs4 import BeautifulSoup, Comment, NavigableString

    for comment in soup.find_all(string=lambda t: isinstance(t, Comment) and "mathjax" in t.lower()):
        comment.extract()
    for script in soup.find_all("script"):
        src = str(script.get("src") or "")
        if "mathjax" in src.lower() or script.get("type") == "text/x-mathjax-config" or "MathJax" in script.get_text():
            script.decompose()
    failed: list[str] = []
    for container in soup.select(MARKDOWN):
        for text in list(container.find_all(string=True)):
            if "$" not in text or any(p.name in LEAVE_ALONE for p in text.parents):
                continue
            pieces = []
            last = 0
            for match in FORMULA.finditer(text):
                pieces.append(NavigableString(text[last : match.start()]))
                tex = match["display"] if match["display"] is not None else match["inline"]
                try:
                    mathml = to_mathml(tex, display=match["display"] is not None)
                    node = BeautifulSoup(mathml, "html.parser")
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
    head = soup.find("head")
    if head is not None:
        style = soup.new_tag("style")
        style.string = STYLE
        head.append(style)
    return failed

