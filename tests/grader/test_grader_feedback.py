"""`python -m grader feedback`: per-student HTML and notebooks, never a hidden test."""

from __future__ import annotations

import html
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from grader_testkit import DEMO_CHECKS, FORMULAS, run_cli, tree_bytes
from nbformat.v4 import new_code_cell, new_notebook, new_output

from grader.feedback import hidden_lines_in, sanitize_notebook, strip_hidden_tests
from grader.notebooks import read_notebook, write_notebook

# Everything a student must never see: the hidden blocks' lines and the hidden checks' code.
SECRETS = ["HIDDEN TESTS", "demo_checks", "check_add", "check_scale", "check_square"] + [
    line.strip() for line in DEMO_CHECKS.splitlines() if line.strip().startswith("assert")
]


def _shown_text(path: Path) -> str:
    """The file's text, and what it displays: HTML without tags (highlighting splits code into
    spans), notebook strings without terminal colour codes (they split tracebacks into pieces)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text += "\n" + html.unescape(re.sub(r"<[^>]+>", "", text))
    if path.suffix == ".ipynb":
        text += "\n" + re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", "\n".join(_strings(json.loads(text))))
    return text


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for item in value for s in _strings(item)] if isinstance(value, list) else []


def _restore_hidden_tests(autograded: Path, source: Path) -> None:
    """Overwrite the locked test cells' sources with the instructor's, as nbgrader's OverwriteCells does."""
    def gid(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    originals = {gid(c): c.source for c in read_notebook(source).cells if gid(c)}
    nb = read_notebook(autograded)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and gid(cell) in originals:
            cell.source = originals[gid(cell)]
    write_notebook(nb, autograded)


@pytest.fixture
def graded(graded_class, tmp_path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(graded_class.workspace, ws)
    return ws


@pytest.mark.slow
def test_feedback_has_the_scores_and_no_hidden_test(graded):
    # The secure pipeline never lets hidden tests into autograded notebooks, but plain
    # `nbgrader autograde` (or an older grading run) restores them into every locked test
    # cell: put them back as nbgrader would, so the danger is real for this test.
    _restore_hidden_tests(graded / "autograded/carol/demo/01_demo.ipynb", graded / "source/demo/01_demo.ipynb")
    carol = _shown_text(graded / "autograded/carol/demo/01_demo.ipynb")
    assert "demo_checks.check_scale(scale)" in carol
    autograded = tree_bytes(graded / "autograded")

    done = run_cli("feedback", "demo", "--workspace", graded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no feedback for frank: no gradable notebook was handed in" in done.stderr
    feedback = graded / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == ["alice", "bob", "carol", "dave", "erin"]
    assert sorted(p.name for p in (feedback / "alice/demo").iterdir()) == [
        "01_demo.html", "01_demo.ipynb", "02_extra.html", "02_extra.ipynb",
    ]  # no copy of demo_checks.py or data/
    assert sorted(p.name for p in (feedback / "dave/demo").iterdir()) == ["02_extra.html", "02_extra.ipynb"]

    files = [p for p in feedback.rglob("*") if p.is_file()]
    assert len(files) == 4 + 4 + 4 + 2 + 2
    for path in files:
        shown = _shown_text(path)
        for secret in SECRETS:
            assert secret not in shown, f"{path.relative_to(feedback)} shows {secret!r}"

    page = _shown_text(feedback / "carol/demo/01_demo.html")
    assert "Score: 0.0 / 3.0" in page and "Score: 2.0 / 2.0" in page and "a hidden test failed" in page
    assert "return [v * 2 for v in x]" in page  # the student's own answer is shown
    nb = read_notebook(feedback / "carol/demo/01_demo.ipynb")
    test_scale = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_scale")
    assert test_scale.source == "assert scale([1], FACTOR) == [2]"  # the visible test, as released
    assert [o.traceback for o in test_scale.outputs if o.output_type == "error"] == [["HiddenTestFailure: a hidden test failed"]]
    assert tree_bytes(graded / "autograded") == autograded  # feedback changes nothing it reads

    # the index names each exercise, formulas are MathML in the page, nothing loads from a CDN
    raw = (feedback / "carol/demo/01_demo.html").read_text(encoding="utf-8")
    assert "Test cell" not in raw and 'Exercise <code>add</code>' in raw and 'Exercise <code>scale</code>' in raw
    assert raw.count("<math ") == FORMULAS and "mathjax" not in raw.lower()
    assert 'alttext="y_i = c\\,x_i"' in raw and 'alttext="i &lt; n_\\text{dev}"' in raw

    # one file per student to hand back: index, pages and notebooks, nothing secret
    handback = graded / "handback/demo"
    assert sorted(p.name for p in handback.iterdir()) == ["alice.zip", "bob.zip", "carol.zip", "dave.zip", "erin.zip"]
    assert f"one file per student to upload or mail: {handback}/<student>.zip" in done.stdout
    with zipfile.ZipFile(handback / "carol.zip") as archive:
        assert archive.namelist() == [f"demo-carol/{n}" for n in
                                      ("index.html", "01_demo.html", "01_demo.ipynb", "02_extra.html", "02_extra.ipynb")]
        contents = {n: archive.read(n).decode() for n in archive.namelist()}
    assert contents["demo-carol/01_demo.html"] == raw
    index = contents["demo-carol/index.html"]
    assert '<a href="01_demo.html">01_demo</a></td><td>2 / 5' in index and "<th>total</th><th>3 / 6</th>" in index
    for name, text in contents.items():
        for secret in SECRETS:
            assert secret not in text, f"{name} shows {secret!r}"
    with zipfile.ZipFile(handback / "dave.zip") as archive:  # his 01_demo was not gradable
        assert "01_demo (not handed in or not gradable)" in archive.read("demo-dave/index.html").decode()

    alice = (handback / "alice.zip").read_bytes()
    again = run_cli("feedback", "demo", "--workspace", graded, "--student", "alice")
    assert again.returncode == 0 and "alice" in again.stdout and "bob" not in again.stdout
    assert (handback / "alice.zip").read_bytes() == alice  # the same file again: safe to re-send


@pytest.mark.slow
def test_a_leak_the_sanitizer_misses_stops_that_students_feedback(graded):
    path = graded / "autograded/erin/demo/02_extra.ipynb"
    nb = read_notebook(path)
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "square")
    solution.outputs = [new_output("stream", name="stdout", text="demo_checks.check_square(square)\n")]
    write_notebook(nb, path)

    done = run_cli("feedback", "demo", "--workspace", graded)
    assert done.returncode == 1
    assert "student erin: 02_extra.ipynb would show hidden test code ('demo_checks.check_square(square)')" in done.stderr
    assert "error: no feedback written for erin" in done.stderr
    assert not (graded / "feedback/erin").exists()
    assert (graded / "feedback/alice/demo/01_demo.html").is_file()  # the others still get theirs


def test_feedback_needs_graded_submissions(class_workspace):
    done = run_cli("feedback", "demo", "--workspace", class_workspace)
    assert done.returncode == 2 and "run `python -m grader autograde demo` first" in done.stderr
    done = run_cli("feedback", "week9", "--workspace", class_workspace)
    assert done.returncode == 2 and "unknown assignment 'week9'" in done.stderr


def test_strip_hidden_tests_cuts_every_block_and_keeps_the_rest():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nsecret(1)\n### END HIDDEN TESTS\nb = 2\n# BEGIN HIDDEN TESTS\nsecret(2)\n# END HIDDEN TESTS"
    assert strip_hidden_tests(source) == ("a = 1\nb = 2", ["secret(1)", "secret(2)"])
    # an unterminated block is cut to the end of the cell: better too much than a leak
    assert strip_hidden_tests("a\n### BEGIN HIDDEN TESTS\nsecret()\nmore()") == ("a", ["secret()", "more()"])
    assert strip_hidden_tests("print('no tests here')") == ("print('no tests here')", [])


def _error(ename, evalue, traceback):
    return new_output("error", ename=ename, evalue=evalue, traceback=traceback)


def test_sanitize_keeps_the_students_traceback_and_only_the_message_of_a_failed_test():
    test_meta = {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_f", "points": 1}}
    answer_meta = {"nbgrader": {"grade": False, "solution": True, "grade_id": "f"}}
    nb = new_notebook(
        cells=[
            new_code_cell("def f():\n    return 1/0\nf()", metadata=answer_meta,
                          outputs=[_error("ZeroDivisionError", "division by zero", ["Traceback", "---> 2 return 1/0"])]),
            new_code_cell("assert f\n### BEGIN HIDDEN TESTS\nhidden_check(f)\n### END HIDDEN TESTS", metadata=test_meta,
                          outputs=[_error("AssertionError", "\x1b[31mf: expected 2, got 1\x1b[0m",
                                          ["---> 3 hidden_check(f)", "File checks.py: assert f() == 2"])]),
        ]
    )
    clean, hidden = sanitize_notebook(nb)
    assert hidden == {"hidden_check(f)"}
    assert clean.cells[0].outputs[0].traceback == ["Traceback", "---> 2 return 1/0"]  # the student's own code
    assert clean.cells[1].source == "assert f"
    assert clean.cells[1].outputs[0].traceback == ["AssertionError: f: expected 2, got 1"]
    assert "hidden_check" in json.dumps(nb)  # the original is left as it was
    assert nbformat.validate(clean) is None


def test_hidden_lines_are_found_in_highlighted_html_and_coloured_tracebacks():
    page = '<html><pre><span class="n">hidden_check</span><span class="p">(</span>f<span class="p">)</span></pre></html>'
    assert hidden_lines_in(page, {"hidden_check(f)", "other()"}) == ["hidden_check(f)"]
    assert hidden_lines_in("<html>&lt;b&gt; safe</html>", {"hidden_check(f)"}) == []
    traceback = "\x1b[32m----> \x1b[39m\x1b[32m4\x1b[39m hidden_check(\x1b[32mf\x1b[39m)"
    assert hidden_lines_in(traceback, {"hidden_check(f)"}) == ["hidden_check(f)"]


@pytest.mark.slow
def test_a_library_warning_names_the_student_and_notebook(graded):
    path = graded / "autograded/alice/demo/02_extra.ipynb"
    nb = read_notebook(path)
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    nb.cells[-1].outputs = [new_output("display_data", data={"image/png": png})]  # a plot with no alt text
    write_notebook(nb, path)
    done = run_cli("feedback", "demo", "--workspace", graded, "--student", "alice")
    assert done.returncode == 0, done.stderr
    assert "student alice: 02_extra.ipynb: nbconvert: Alternative text is missing on 1 image(s)." in done.stderr
    assert "\nnbgrader: Alternative" not in "\n" + done.stderr  # no longer a line that names nobody


def test_verbose_log_explains_the_checksum_lines_of_test_cells():
    from grader._nbgrader import explain_log, warnings_by_notebook

    log = "\n".join([
        "[INFO] Converting notebook /tmp/x/autograded/alice/week1/01_demo.ipynb",
        "[WARNING] Attribute 'checksum' for cell test_add has changed! (should be: 1a, got: 2b)",
        "[WARNING] Attribute 'checksum' for cell setup has changed! (should be: 3c, got: 4d)",
        "[WARNING] Alternative text is missing on 2 image(s).",
        "[INFO] Converting notebook /tmp/x/autograded/alice/week1/02_extra.ipynb",
        "[WARNING] Attribute 'checksum' for cell test_square has changed! (should be: 5e, got: 6f)",
    ])
    explained = explain_log(log).splitlines()
    assert not any("test_add has changed" in line or "test_square has changed" in line for line in explained)
    assert explained[-1].startswith("[NOTE] 2 test cell(s) differ from their checksum (test_add, test_square): expected")
    assert "not tampering" in explained[-1]
    assert any("cell setup has changed" in line and "the student edited this locked cell" in line for line in explained)
    assert warnings_by_notebook(log) == [("01_demo.ipynb", "Alternative text is missing on 2 image(s).")]


def test_typeset_page_converts_markdown_formulas_only_and_drops_mathjax():
    from grader.mathml import typeset_page

    page = (
        '<html><head><!-- Load mathjax --><script src="https://cdn.example/mathjax/2.7.7/latest.js"> </script>'
        '<script type="text/x-mathjax-config">MathJax.Hub.Config({})</script></head><body>'
        '<div class="cell"><div class="text_cell_render border-box-sizing rendered_html"><div class="note">'
        "<p>Sizes $n_\\text{dev}$ cost $5 and $10; $\\texttt{keep\\_prob}$ and <code>$not_math$</code></p></div>"
        "$$\\big\\lVert W \\big\\rVert_F^2 = \\sum_{i} w_i^2$$ then $\\unknowncommand{x}$</div>"
        "<pre>$also_not_math$</pre></div><div class=\"output\">$output_text$</div></body></html>"
    )
    out, failed = typeset_page(page)
    assert "mathjax" not in out.lower() and "MathJax" not in out
    assert out.count("<math ") == 3 and out.count('display="block"') == 1
    assert 'alttext="n_\\text{dev}"' in out and "<mtext>dev</mtext>" in out
    assert "keep_prob</mtext>" in out  # the text-mode escape is gone
    assert "\u2016" in out  # \big\lVert: the double bar, not raw TeX
    assert "cost $5 and $10;" in out  # prices are not formulas
    assert "<code>$not_math$</code>" in out and "<pre>$also_not_math$</pre>" in out and "$output_text$" in out
    assert failed == ["\\unknowncommand{x}"] and '<code class="tex">$\\unknowncommand{x}$</code>' in out
    assert out.endswith("</body></html>") and out.index("<style>math") < out.index("</head>")
