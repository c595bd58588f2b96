"""Exceptions the CLI turns into one line on stderr (no traceback)."""


class GraderError(Exception):
    """Something went wrong that the user can fix; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(GraderError):
    """Bad arguments or a missing/unsuitable directory (exit code 2)."""

    exit_code = 2


class PipelineError(GraderError):
    """nbgrader failed on the course's own files (exit code 1)."""

    exit_code = 1
