"""nbgrader's Validate button, with a failure dialog that leads with the message.

nbgrader's dialog shows, for each failed cell, the cell's whole source and then the
error; for a check cell that is a screen of code before the sentence that matters.
This Jupyter server extension serves the same ``/assignments/validate`` endpoint with
nbgrader's own handler, and only reorders what the dialog shows: first the message
(the failed check's message, or the last line of a traceback followed by the
traceback), then "in this cell:" and the source. ``make install`` enables it in
``.venv`` in place of ``nbgrader.server_extensions.validate_assignment``.
"""
from __future__ import annotations

import html
import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def message_first(result: dict) -> dict:
    """The validate handler's answer with each failed cell's message moved in front of its source."""
    value = result.get("value")
    if not result.get("success") or not isinstance(value, dict):
        return result
    for failed in value.get("failed", []):
        if "raw_error" not in failed:  # e.g. a cell whose type changed: nothing to reorder
            continue
        error = ANSI.sub("", failed["raw_error"]).strip()
        lines = [line for line in error.splitlines() if line.strip()]
        if "Traceback (most recent call last)" in error and lines:
            error = f"{lines[-1]}\n\n{error}"  # what went wrong first, the frames after
        source = failed.get("source", "")
        failed["source"] = error  # the dialog shows this slot first, as text
        failed["error"] = html.escape(f"in this cell:\n\n{source}")  # and this one second, as HTML
    return result


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler, ValidateAssignmentHandler

    class MessageFirstValidateHandler(ValidateAssignmentHandler):
        def validate_notebook(self, path):
            return message_first(super().validate_notebook(path))

    webapp = serverapp.web_app
    webapp.settings["root_dir"] = serverapp.root_dir
    base_url = webapp.settings["base_url"]
    webapp.add_handlers(".*$", [(url_path_join(base_url, "/assignments/validate"), MessageFirstValidateHandler),
                                (url_path_join(base_url, "/nbgrader_version"), NbGraderVersionHandler)])


def _jupyter_server_extension_points():
    return [{"module": "grader.validate_dialog"}]
