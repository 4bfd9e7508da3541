"""The programme: hours against the format's minimum, a draft from the format, iCalendar."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.hookspecs import AssemblyFormat

AGENDA_KINDS = ("expert_talk", "stakeholder_hearing", "group_work", "plenary", "voting")
GUEST_KINDS = ("expert", "stakeholder")


def utc(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def hours(session: Mapping) -> float:
    return (utc(session["ends_at"]) - utc(session["starts_at"])).total_seconds() / 3600


def check(fmt: AssemblyFormat, sessions: Sequence[Mapping]) -> dict:
    """Planned hours and sessions against the format's minimum, with warnings in words."""
    planned = round(sum(hours(s) for s in sessions), 2)
    warnings = []
    if planned < fmt.min_hours:
        warnings.append({"field": "hours", "reason": f"the programme plans {planned:g} hours; "
                         f"the {fmt.name} format needs at least {fmt.min_hours:g}"})
    if len(sessions) < fmt.min_sessions:
        warnings.append({"field": "sessions", "reason": f"the programme has {len(sessions)} "
                         f"sessions; the {fmt.name} format needs at least {fmt.min_sessions}"})
    return {"planned_hours": planned, "min_hours": fmt.min_hours, "sessions": len(sessions),
            "min_sessions": fmt.min_sessions, "warnings": warnings}


def draft(fmt: AssemblyFormat, start: date, place: str, host: str, tz: str,
          every_days: int = 7) -> list[dict]:
    """The format's minimum as sessions: evenly long days (rounded up to half hours) from
    09:00, one every ``every_days``, with expert talks and group work, voting last."""
    per_session = math.ceil(fmt.min_hours / fmt.min_sessions * 2) / 2
    zone = ZoneInfo(tz)
    out = []
    for k in range(fmt.min_sessions):
        day = start + timedelta(days=every_days * k)
        starts = datetime.combine(day, time(9, 0), zone)
        minutes = int(per_session * 60)
        last = k == fmt.min_sessions - 1
        agenda = [("expert_talk", "Oplæg fra eksperter", 60),
                  ("group_work", "Gruppearbejde", minutes - 150),
                  ("plenary", "Plenum", 60 if last else 90)]
        if last:
            agenda.append(("voting", "Afstemning om anbefalinger", 30))
        out.append({"title": f"Møde {k + 1}", "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=minutes), "place": place, "host": host,
                    "agenda": [{"kind": kd, "title": t, "minutes": m} for kd, t, m in agenda]})
    return out


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after CRLF and
    one space; a UTF-8 character is never split."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        width = len(ch.encode())
        limit = 75 if not out else 74  # a continuation line starts with the space
        if size + width > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def _stamp(dt: datetime) -> str:
    return utc(dt).strftime("%Y%m%dT%H%M%SZ")


def icalendar(assembly: Mapping, sessions: Sequence[Mapping], domain: str,
              now: datetime | None = None) -> bytes:
    now = now or datetime.now(UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kleroterion//sessions//DA",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(assembly['name'])}"]
    for s in sessions:
        lines += ["BEGIN:VEVENT",
                  f"UID:{s['id']}@{domain}",
                  f"DTSTAMP:{_stamp(now)}",
                  f"DTSTART:{_stamp(s['starts_at'])}",
                  f"DTEND:{_stamp(s['ends_at'])}",
                  f"SUMMARY:{_escape(assembly['name'] + ': ' + s['title'])}",
                  f"LOCATION:{_escape(s['place'])}",
                  f"DESCRIPTION:{_escape('Vært: ' + s['host'])}",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
