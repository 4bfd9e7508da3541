"""What the server-rendered pages share: their Danish and English words, the language a
request asks for, local times, and the printable table plan (PDF)."""
from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from services.common.service import ServiceContext
from services.sessions import programme
from services.sessions.settings import settings_of

TEXT = {
    "da": {"programme": "Program", "session": "Møde", "place": "Sted", "host": "Vært",
           "hours": "timer", "agenda": "Dagsorden", "experts": "Eksperter og interessenter",
           "members": "Medlemmer", "seated": "medlemmer har sæde", "named": "Med navn (samtykke)",
           "calendar": "Hent kalender (iCal)", "table_plan": "Bordplan", "table": "Bord",
           "minutes": "min", "held": "afholdt", "planned": "Planlagte timer",
           "check_in": "Indtjekning", "token": "Adgangsnøgle", "present": "Til stede",
           "load": "Hent medlemmer", "saved": "Gemt", "language": "English",
           "kinds": {"expert_talk": "Ekspertoplæg",
                     "stakeholder_hearing": "Høring af interessenter",
                     "group_work": "Gruppearbejde", "plenary": "Plenum", "voting": "Afstemning",
                     "expert": "Ekspert", "stakeholder": "Interessent"}},
    "en": {"programme": "Programme", "session": "Session", "place": "Place", "host": "Host",
           "hours": "hours", "agenda": "Agenda", "experts": "Experts and stakeholders",
           "members": "Members", "seated": "members hold a seat", "named": "Named (with consent)",
           "calendar": "Download calendar (iCal)", "table_plan": "Table plan", "table": "Table",
           "minutes": "min", "held": "held", "planned": "Planned hours",
           "check_in": "Check-in", "token": "Access token", "present": "Present",
           "load": "Load members", "saved": "Saved", "language": "Dansk",
           "kinds": {"expert_talk": "Expert talk", "stakeholder_hearing": "Stakeholder hearing",
                     "group_work": "Group work", "plenary": "Plenary", "voting": "Voting",
                     "expert": "Expert", "stakeholder": "Stakeholder"}},
}


def lang() -> str:
    asked = request.args.get("lang", "da")
    return asked if asked in TEXT else "da"


def local_time(ctx: ServiceContext) -> Callable[[datetime], str]:
    zone = ZoneInfo(settings_of(ctx).timezone)
    return lambda dt: programme.utc(dt).astimezone(zone).strftime("%d.%m.%Y %H:%M")


def pdf_text(value: Any) -> str:
    """User text as a reportlab Paragraph shows it literally. Paragraph reads its text as
    markup: ``<img src=...>`` would embed a file of the server, ``<font>``/``<a>`` restyle
    or link, and a stray ``&`` or ``<`` breaks the document; escaped, they are just text."""
    return html.escape("" if value is None else str(value), quote=False)


def table_plan_pdf(assembly: Mapping[str, Any], session: Mapping[str, Any],
                   slots: Sequence[Mapping[str, Any]],
                   names: Mapping[str, str | None]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    story = [Paragraph(f"{pdf_text(assembly['name'])} — {pdf_text(session['title'])}",
                       styles["Title"])]
    for slot in slots:
        story.append(Paragraph(pdf_text(slot["item"]["title"]), styles["Heading2"]))
        for number, table in enumerate(slot["tables"], start=1):
            story.append(Paragraph(f"Bord {number}", styles["Heading3"]))
            # Table cells that are plain strings are drawn as text, never read as markup.
            story.append(Table([[names.get(x) or x] for x in table]))
            story.append(Spacer(1, 6))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"{assembly['name']} {session['title']}").build(story)
    return buf.getvalue()
