"""The public sign-up: what a citizen's code is for, their sign-up to the pool, and later
their answer to the seat offer, with the texts of the page (Danish and English).

The same code later answers the seat offer: once its registrant is drawn (``selected``),
the page and the JSON API (``views/signup.py``) ask them to confirm or decline their seat
instead, and the answer is announced to sessions as ``seat_answered``."""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from services.registry import lottery, models, outgoing, pool, queries

TEXT = {
    "da": {
        "title": "Tilmelding til borgersamling", "code": "Din kode fra invitationen",
        "code_hint": "10 tegn, fx K7Q2-M9XD-4P", "next": "Fortsæt", "submit": "Tilmeld mig",
        "errors": "Der er fejl i formularen", "available": "Jeg kan deltage på mødedatoerne",
        "dates": "Mødedatoer", "consent": "Jeg giver samtykke til, at mine oplysninger "
        "behandles til udtrækningen og borgersamlingen", "thanks": "Tak for din tilmelding",
        "thanks_body": "Du er nu med i puljen. Vi kontakter dig, hvis du bliver trukket ud.",
        "unknown_code": "Koden findes ikke. Tjek koden i dit brev.",
        "used_code": "Koden er allerede brugt til en tilmelding.",
        "ended": "Tilmeldingen er lukket.", "missing_code": "Skriv din kode.",
        "missing_answer": "Vælg et svar.", "missing_available": "Du skal kunne deltage på "
        "mødedatoerne for at blive tilmeldt.", "missing_consent": "Giv samtykke for at "
        "blive tilmeldt.", "bad_answer": "Vælg et af svarene.", "language": "English",
        "other_lang": "en",
        "seat_title": "Bekræft din plads",
        "seat_intro": "Du er trukket ud til {assembly}: bekræft eller afslå din plads.",
        "seat_answer": "Dit svar", "confirmed": "Jeg bekræfter min plads",
        "declined": "Jeg afslår pladsen",
        "seat_reason": "Hvis du afslår: hvorfor? (frivilligt)",
        "reason_none": "Det vil jeg ikke oplyse",
        "reason_dates": "Jeg kan ikke deltage på mødedatoerne",
        "reason_circumstances": "Mine forhold har ændret sig",
        "reason_not_interested": "Jeg ønsker ikke længere at deltage",
        "reason_other": "Af en anden grund", "seat_submit": "Send mit svar",
        "seat_done_confirmed": "Tak, din plads er bekræftet",
        "seat_done_confirmed_body": "Du hører fra os om programmet før det første møde.",
        "seat_done_declined": "Du har afslået pladsen",
        "seat_done_declined_body": "Tak for dit svar. Pladsen går videre til en anden.",
        "missing_seat_answer": "Vælg, om du bekræfter eller afslår din plads.",
        "bad_reason": "Vælg en af grundene.",
        "seat_answered": "Du har allerede svaret på pladsen.",
        "no_seat": "Der er ingen plads at bekræfte eller afslå med denne kode.",
    },
    "en": {
        "title": "Sign up for the citizens' assembly", "code": "Your code from the invitation",
        "code_hint": "10 characters, e.g. K7Q2-M9XD-4P", "next": "Continue",
        "submit": "Sign me up", "errors": "There is a problem with the form",
        "available": "I can take part on the session dates", "dates": "Session dates",
        "consent": "I consent to my data being processed for the lottery and the assembly",
        "thanks": "Thank you for signing up",
        "thanks_body": "You are now in the pool. We will contact you if you are selected.",
        "unknown_code": "This code does not exist. Check the code in your letter.",
        "used_code": "This code has already been used to sign up.",
        "ended": "Sign-up is closed.", "missing_code": "Enter your code.",
        "missing_answer": "Choose an answer.", "missing_available": "You must be able to "
        "attend the session dates to sign up.", "missing_consent": "Give your consent to "
        "sign up.", "bad_answer": "Choose one of the answers.", "language": "Dansk",
        "other_lang": "da",
        "seat_title": "Confirm your seat",
        "seat_intro": "You have been drawn for {assembly}: confirm or decline your seat.",
        "seat_answer": "Your answer", "confirmed": "I confirm my seat",
        "declined": "I decline the seat",
        "seat_reason": "If you decline: why? (optional)",
        "reason_none": "I would rather not say",
        "reason_dates": "I cannot take part on the session dates",
        "reason_circumstances": "My circumstances have changed",
        "reason_not_interested": "I no longer wish to take part",
        "reason_other": "For another reason", "seat_submit": "Send my answer",
        "seat_done_confirmed": "Thank you, your seat is confirmed",
        "seat_done_confirmed_body": "You will hear from us about the programme before the "
        "first session.",
        "seat_done_declined": "You have declined the seat",
        "seat_done_declined_body": "Thank you for letting us know. The seat goes to someone "
        "else.",
        "missing_seat_answer": "Choose whether you confirm or decline your seat.",
        "bad_reason": "Choose one of the reasons.",
        "seat_answered": "You have already answered the seat offer.",
        "no_seat": "There is no seat to confirm or decline with this code.",
    },
}


# Why a seat was declined: a fixed list of codes, never free text, because the reason
# travels on the bus (seat_answered) and free text invites personal data.
REASONS = ("dates", "circumstances", "not_interested", "other")


class SignupError(Exception):
    """A sign-up or seat answer refused, with every field's reason in the citizen's
    language (a form shows them all at once)."""

    def __init__(self, errors: list[tuple[str, str]], status: int = 422) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors
        self.status = status


def find_code(conn: Connection, code: str, lang: str) -> Row[Any]:
    """The invitation of a code with its assembly and its registrant (``registrant_id`` and
    ``registrant_state`` are None before the sign-up), or SignupError naming 'code'."""
    t = TEXT[lang]
    code = lottery.normalise_code(code or "")
    if not code:
        raise SignupError([("code", t["missing_code"])])
    row = queries.invitation_by_code(conn, code)
    if row is None or row.person_id is None:
        raise SignupError([("code", t["unknown_code"])], 404)
    if row.assembly_status != "open":
        raise SignupError([("code", t["ended"])], 410)
    return row


def find_invitation(conn: Connection, code: str, lang: str) -> Row[Any]:
    """The invitation and its assembly for a code, or SignupError naming the field 'code'."""
    row = find_code(conn, code, lang)
    if row.signed_up:
        raise SignupError([("code", TEXT[lang]["used_code"])], 409)
    return row


def code_step(conn: Connection, code: str, lang: str) -> tuple[str, Row[Any]]:
    """What a code is for now, from one read: ``("seat", row)`` once its registrant is
    drawn and has not answered, ``("signup", row)`` before the sign-up; SignupError naming
    'code' when it is for nothing any more."""
    row = find_code(conn, code, lang)
    if row.registrant_state == "selected":
        return "seat", row
    if row.registrant_state in pool.ANSWERS:
        raise SignupError([("code", TEXT[lang]["seat_answered"])], 409)
    if row.signed_up:
        raise SignupError([("code", TEXT[lang]["used_code"])], 409)
    return "signup", row


def find_seat(conn: Connection, code: str, lang: str) -> Row[Any]:
    """The invitation of a drawn registrant who has not answered yet, or SignupError
    naming 'code'."""
    row = find_code(conn, code, lang)
    if row.registrant_state in pool.ANSWERS:
        raise SignupError([("code", TEXT[lang]["seat_answered"])], 409)
    if row.registrant_state != "selected":
        raise SignupError([("code", TEXT[lang]["no_seat"])], 409)
    return row


def register(conn: Connection, region: str, code: str, answers: Mapping[str, Any],
             available: object, consent: object, lang: str) -> str:
    """Sign the code's holder up to the pool with their answers, and announce it
    (``signup_received``) in the same transaction. Returns the registrant's id."""
    t = TEXT[lang]
    inv = find_invitation(conn, code, lang)
    questions = json.loads(inv.questions)
    errors = []
    for q in questions:
        value = answers.get(q["id"])
        if value in (None, ""):
            errors.append((q["id"], t["missing_answer"]))
        elif value not in {o["value"] for o in q["options"]}:
            errors.append((q["id"], t["bad_answer"]))
    if available is not True:
        errors.append(("available", t["missing_available"]))
    if consent is not True:
        errors.append(("consent", t["missing_consent"]))
    if errors:
        raise SignupError(errors)
    registrant_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    features = {q["id"]: answers[q["id"]] for q in questions}
    try:
        with conn.begin_nested():
            conn.execute(models.registrants.insert().values(
                id=registrant_id, assembly_id=inv.assembly_id, invitation_id=inv.id,
                municipality_code=inv.municipality_code, age_band=inv.age_band, sex=inv.sex,
                answers=json.dumps(features), language=lang, state="pool", created_at=now,
                updated_at=now))
    except IntegrityError:
        raise SignupError([("code", t["used_code"])], 409) from None
    conn.execute(models.invitations.update().where(models.invitations.c.id == inv.id)
                 .values(signed_up=True))
    features.update(age_band=inv.age_band, sex=inv.sex)
    # In the sign-up's own transaction: an accepted sign-up always gets its event, even
    # when the broker is away (the outbox relay publishes it when it is back).
    outgoing.signup_received(conn, region, assembly_id=inv.assembly_id,
                             registrant_id=registrant_id, features=features,
                             municipality_code=inv.municipality_code)
    return registrant_id


def answer_seat(conn: Connection, region: str, code: str, answer: object, reason: object,
                lang: str) -> tuple[str, str]:
    """A drawn registrant confirms or declines their seat: selected -> confirmed/declined
    and ``seat_answered`` in one transaction. Returns (registrant id, state)."""
    t = TEXT[lang]
    row = find_seat(conn, code, lang)
    errors = []
    if answer not in pool.ANSWERS:
        errors.append(("answer", t["missing_seat_answer"]))
    if reason is None:
        reason = ""
    if reason != "" and reason not in REASONS:
        errors.append(("reason", t["bad_reason"]))
    if errors:
        raise SignupError(errors)
    answer, reason = str(answer), str(reason)  # one of the lists' texts, checked above
    pool.check_transition(row.registrant_state, answer)
    r = models.registrants
    # Guarded by the state read above: of two answers at once only one changes it.
    changed = conn.execute(r.update().where(r.c.id == row.registrant_id,
                                            r.c.state == row.registrant_state)
                           .values(state=answer, updated_at=datetime.now(UTC)))
    if changed.rowcount != 1:
        raise SignupError([("code", t["seat_answered"])], 409)
    outgoing.seat_answered(conn, region, assembly_id=row.assembly_id,
                           registrant_id=row.registrant_id, answer=answer, reason=reason)
    return row.registrant_id, answer
