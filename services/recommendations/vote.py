"""The members' voting page: a plain HTML form (no script needed) where a panel member
enters the personal member code and chooses a level of support for the open round of a
recommendation.

The rules are those of the JSON API (api.record_ballot): once per round, only seated
members on the round's roll call, secret ballots. The page shows the recommendation by its
number and the round, not its text: a draft is not public, and the members have the text
in the room.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for

from services.recommendations import models as m
from services.recommendations.api import Refused, ctx, language, record_ballot

bp = Blueprint("vote", __name__, template_folder="templates")

TEXT = {
    "da": {
        "title": "Stem om en anbefaling", "language": "English", "skip": "Spring til indhold",
        "recommendation": "Anbefaling nr.", "round": "afstemningsrunde",
        "intro": "Skriv din personlige medlemskode og vælg, hvor stor opbakning du giver "
                 "anbefalingen. Din stemme er hemmelig, og du kan kun stemme én gang i hver "
                 "runde.",
        "code": "Medlemskode", "code_hint": "Koden står på dit medlemskort, fx AB12-CD34-EF56-7890.",
        "scale": "Din opbakning til anbefalingen", "submit": "Afgiv stemme",
        "errors": "Din stemme blev ikke registreret", "thanks": "Tak – din stemme er registreret",
        "thanks_text": "Stemmen er hemmelig: hverken facilitatorerne eller andre kan se, hvad "
                       "du har stemt.",
        "no_round": "Der er ingen åben afstemning om denne anbefaling lige nu.",
        "unknown": "Anbefalingen findes ikke.",
        "refused": {
            "code_missing": "Skriv din medlemskode.",
            "code_unknown": "Medlemskoden er ukendt. Tjek, at du har skrevet den rigtigt.",
            "not_seated": "Kun medlemmer af borgerpanelet kan stemme om denne anbefaling.",
            "not_present": "Du er ikke registreret som til stede ved denne afstemning. "
                           "Tal med facilitatoren.",
            "level": "Vælg, hvor stor opbakning du giver anbefalingen.",
            "already_voted": "Du har allerede stemt i denne runde. En stemme kan ikke "
                             "ændres eller afgives igen.",
            "closed": "Afstemningen er lukket. Din stemme blev ikke registreret.",
        },
    },
    "en": {
        "title": "Vote on a recommendation", "language": "Dansk", "skip": "Skip to content",
        "recommendation": "Recommendation no.", "round": "voting round",
        "intro": "Enter your personal member code and choose how much you support the "
                 "recommendation. Your vote is secret, and you can vote only once in each "
                 "round.",
        "code": "Member code", "code_hint": "The code is on your member card, e.g. "
                                            "AB12-CD34-EF56-7890.",
        "scale": "Your support for the recommendation", "submit": "Cast vote",
        "errors": "Your vote was not recorded", "thanks": "Thank you – your vote is recorded",
        "thanks_text": "The vote is secret: neither the facilitators nor anyone else can see "
                       "how you voted.",
        "no_round": "There is no open vote on this recommendation right now.",
        "unknown": "There is no such recommendation.",
        "refused": {
            "code_missing": "Enter your member code.",
            "code_unknown": "We do not know that member code. Check that you typed it "
                            "correctly.",
            "not_seated": "Only members of the citizens' panel can vote on this "
                          "recommendation.",
            "not_present": "You are not registered as present for this vote. Please speak "
                           "to the facilitator.",
            "level": "Choose how much you support the recommendation.",
            "already_voted": "You have already voted in this round. A vote cannot be changed "
                             "or cast again.",
            "closed": "The vote has closed. Your vote was not recorded.",
        },
    },
}


def _open_round(rec_id: str):
    with ctx().engine.connect() as conn:
        rec = conn.execute(sa.select(m.recommendations.c.id, m.recommendations.c.seq)
                           .where(m.recommendations.c.id == rec_id)).first()
        if rec is None:
            return None, None
        r = conn.execute(sa.select(m.rounds).where(m.rounds.c.recommendation_id == rec_id,
                                                   m.rounds.c.status == "open")
                         .order_by(m.rounds.c.number.desc()).limit(1)).first()
        return rec, r


@bp.route("/public/recommendations/<rec_id>/vote", methods=["GET", "POST"])
def vote_page(rec_id):
    lang = language()
    t = TEXT[lang]
    other = "en" if lang == "da" else "da"
    rec, r = _open_round(rec_id)
    page = {"lang": lang, "t": t, "rec": rec, "round": r, "errors": [], "level": None,
            "recorded": False, "other_url": url_for("vote.vote_page", rec_id=rec_id, lang=other),
            "action": url_for("vote.vote_page", rec_id=rec_id)}
    if rec is None:
        return render_template("vote.html", **page, message=t["unknown"]), 404
    if r is None:
        return render_template("vote.html", **page, message=t["no_round"]), 409
    if request.method == "GET":
        page["recorded"] = request.args.get("recorded") == "1"
        return render_template("vote.html", **page, message=None)

    code = request.form.get("member_code", "")
    level = request.form.get("level")
    page["level"] = level
    # Both missing fields are named at once; the other refusals come one at a time.
    errors = []
    if not code.strip():
        errors.append(("code_missing", "member_code"))
    if level is None:
        errors.append(("level", "level"))
    status = 400
    if not errors:
        try:
            record_ballot(r.id, code, level)
        except Refused as exc:
            errors.append((exc.kind, exc.field))
            status = exc.status
    if errors:
        page["errors"] = [{"text": t["refused"][kind], "field": field} for kind, field in errors]
        # The code is never sent back into the form: it is the member's secret.
        return render_template("vote.html", **page, message=None), status
    # Post/Redirect/Get: reloading the confirmation must not send the form again.
    return redirect(url_for("vote.vote_page", rec_id=rec_id, lang=lang, recorded=1), 303)
