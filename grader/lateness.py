"""Due dates and late penalties.

Set in the workspace's ``nbgrader_config.py`` (``grader init`` writes the
lines, commented out)::

    c.LatePenalty.due_dates = {"week1": "2026-10-12 23:59 Europe/Berlin"}
    c.LatePenalty.grace_minutes = 15      # uploads this late still count as on time
    c.LatePenalty.per_day = 0.1           # share of the points earned lost per started day late
    c.LatePenalty.zero_after_days = 7     # later than this many days: 0 (0 = never)

A due date is ``YYYY-MM-DD HH:MM[:SS]`` then a time zone (an IANA name such
as ``Europe/Berlin``, ``UTC``, or an offset such as ``+02:00``); without one
it is UTC. The defaults charge nothing.

How it is applied: ``grader collect`` records each submission's time in
``submitted/<student>/<assignment>/timestamp.txt`` (nbgrader's own file);
``grader autograde`` writes the due dates into the gradebook, and nbgrader's
``AssignLatePenalties`` asks :class:`LatePenalty` for each notebook's
penalty from how late the submission was. The gradebook keeps scores and
penalties apart; ``grader export``, the autograde summary and the feedback
show both and the score after the penalty.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict, Float

from .errors import UsageError

DAY = 86400.0
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's timestamp.txt


class LatePenalty(LateSubmissionPlugin):
    """nbgrader's late-submission plugin with this course's policy (see the module's doc)."""

    due_dates = Dict(help="assignment -> due date, e.g. {'week1': '2026-10-12 23:59 Europe/Berlin'}").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the due date that still count as on time").tag(config=True)
    per_day = Float(0.0, help="share of the points earned deducted per started day late (0.1: 10 %)").tag(config=True)
    zero_after_days = Float(0.0, help="a submission later than this many days scores 0 (0: never)").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        return penalty(self, score, total_seconds_late)


def policy(config) -> LatePenalty:
    """The policy a traitlets ``config`` (a workspace's) sets; bad values: UsageError."""
    plugin = LatePenalty(config=config)
    for name in ("grace_minutes", "per_day", "zero_after_days"):
        if getattr(plugin, name) < 0:
            raise UsageError(f"c.LatePenalty.{name} must not be negative, got {getattr(plugin, name)}")
    if plugin.per_day > 1:
        raise UsageError(f"c.LatePenalty.per_day is a share of the points (0.1 for 10 %), got {plugin.per_day}")
    for assignment in plugin.due_dates:
        due_date(plugin, assignment)  # every date parses
    return plugin


def penalty(plugin: LatePenalty, score: float, seconds_late: float) -> float:
    """Points deducted from ``score`` for a notebook handed in ``seconds_late`` after the due date."""
    days = days_late(plugin, seconds_late)
    if days == 0 or score <= 0:
        return 0.0
    if plugin.zero_after_days and seconds_late - 60 * plugin.grace_minutes > plugin.zero_after_days * DAY:
        return float(score)
    return float(min(score, score * plugin.per_day * days))


def days_late(plugin: LatePenalty, seconds_late: float) -> int:
    """Started days late after the grace period (0: on time)."""
    over = (seconds_late or 0) - 60 * plugin.grace_minutes
    return 0 if over <= 0 else math.ceil(over / DAY)


def due_date(plugin: LatePenalty, assignment: str) -> datetime | None:
    """The due date of ``assignment`` as an aware UTC datetime, or None when it has none."""
    text = plugin.due_dates.get(assignment)
    if text in (None, ""):
        return None
    return parse_due(str(text), f"c.LatePenalty.due_dates[{assignment!r}]")


def parse_due(text: str, where: str = "due date") -> datetime:
    match = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?)\s*(\S*)\s*", text)
    if not match:
        raise UsageError(f"{where}: {text!r} is not a date like '2026-10-12 23:59 Europe/Berlin'")
    moment = datetime.fromisoformat(match.group(1).replace("T", " "))
    zone = match.group(2)
    if not zone or zone.upper() in ("UTC", "Z", "GMT"):
        tz = UTC
    elif re.fullmatch(r"[+-]\d{2}:?\d{2}", zone):
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    else:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"{where}: unknown time zone {zone!r} (use e.g. Europe/Berlin, UTC or +02:00)") from None
    return moment.replace(tzinfo=tz).astimezone(UTC)


def describe(plugin: LatePenalty, assignment: str) -> str:
    """One line for people: the due date and what lateness costs."""
    due = due_date(plugin, assignment)
    if due is None:
        return f"{assignment} has no due date: nothing is late"
    rules = []
    if plugin.grace_minutes:
        rules.append(f"{plugin.grace_minutes:g} min grace")
    if plugin.per_day:
        rules.append(f"-{plugin.per_day:.0%} of the points earned per started day late")
    if plugin.zero_after_days:
        rules.append(f"0 after {plugin.zero_after_days:g} day(s)")
    cost = "; ".join(rules) if (plugin.per_day or plugin.zero_after_days) else "late work is marked, not penalized"
    return f"{assignment} due {due:%Y-%m-%d %H:%M} UTC; {cost}"


def sync_due_dates(gb, plugin: LatePenalty) -> None:
    """Write the configured due dates into the gradebook (nbgrader computes lateness from there).
    A due date set with nbgrader itself for an assignment the config does not name is left alone."""
    known = {a.name for a in gb.assignments}
    for assignment in plugin.due_dates:
        if assignment not in known:
            raise UsageError(f"c.LatePenalty.due_dates names {assignment!r}, which is no assignment of this workspace")
        due = due_date(plugin, assignment)
        gb.update_or_create_assignment(assignment, duedate=due.replace(tzinfo=None) if due else None)


def timestamp_text(moment: datetime) -> str:
    """``moment`` as nbgrader's ``timestamp.txt`` holds it (UTC)."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)

