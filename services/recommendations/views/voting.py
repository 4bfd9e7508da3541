"""Support votes: rounds on a draft, the roll call, secret ballots, the count, minority
statements, and the members' voting page.

The voting page is a plain HTML form (no script needed) where a panel member enters the
personal member code and chooses a level of support for the open round of a
recommendation. Its rules are those of the JSON API (voting.record_ballot): once per
round, only seated members on the round's roll call, secret ballots. The page shows the
recommendation by its number and the round, not its text: a draft is not public, and the
members have the text in the room.
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.common import auth, ratelimit
from services.common.ratelimit import RateLimited
from services.common.service import current_context
from services.common.web import ApiError, json_body
from services.recommendations import drafting, queries, voting
from services.recommendations import models as m
from services.recommendations import scale as scales
from services.recommendations.inputs import MAX_SUPPORTERS, Refused, a_whole_number, language, text
from services.recommendations.queries import Row
from services.recommendations.roles import FACILITATOR, OPERATORS
from services.recommendations.views.shared import (
    TEMPLATES,
    change,
    code_guard,
    count_failure,
    locked_message,
    log_change,
    now,
    today,
    who,
)

blueprint = Blueprint("voting", __name__, template_folder=TEMPLATES)
blueprint.register_error_handler(RateLimited, ratelimit.response)


def round_json(r: Row, *, voted: int | None = None, present: int | None = None
               ) -> dict[str, Any]:
    out = {"id": r.id, "recommendation_id": r.recommendation_id, "number": r.number,
           "version": r.version, "status": r.status, "threshold": r.threshold,
           "scale": r.scale, "opened_at": r.opened_at.isoformat(),
           "closed_at": r.closed_at.isoformat() if r.closed_at else None, "result": r.result}
    if r.status == "open":  # the members' voting page, to hand to the panel
        out["vote_url"] = url_for("voting.vote_page", rec_id=r.recommendation_id)
    if voted is not None:
        out["voted"] = voted
        out["present"] = present
    return out


@blueprint.post("/recommendations/<rec_id>/rounds")
@auth.require(*FACILITATOR)
def open_round(rec_id: str) -> ResponseReturnValue:
    data = json_body(optional=True)
    with change() as conn:
        rec = queries.rec_row(conn, rec_id)
        drafting.must_be_draft(conn, rec)
        a = queries.assembly_row(conn, rec.assembly_id)
        threshold = (scales.check_threshold(data["threshold"]) if "threshold" in data
                     else a.threshold)
        number = queries.last_round_number(conn, rec_id) + 1
        round_id = str(uuid.uuid4())
        conn.execute(m.rounds.insert().values(
            id=round_id, recommendation_id=rec_id, assembly_id=rec.assembly_id, number=number,
            version=rec.current_version, status="open", threshold=threshold,
            scale=a.scale or scales.DEFAULT_SCALE, opened_at=now()))
        voting.open_tally(conn, round_id, a.scale or scales.DEFAULT_SCALE)
        log_change(conn, "round.open", f"recommendation:{rec_id}",
                   {"round": round_id, "number": number, "threshold": threshold})
        return jsonify(round_json(queries.round_row(conn, round_id), voted=0, present=0)), 201


@blueprint.put("/rounds/<round_id>/roll-call")
@auth.require(*FACILITATOR)
def roll_call(round_id: str) -> Response:
    """Who is present for this round (replaces an earlier roll call of the same round)."""
    data = json_body()
    present = data.get("present")
    if not isinstance(present, list) or not all(isinstance(p, str) for p in present):
        raise ApiError("present", "must be a list of member ids")
    with change() as conn:
        r = queries.round_row(conn, round_id)
        voting.must_be_open(r)
        seated = queries.seated_member_ids(conn, r.assembly_id)
        for i, member_id in enumerate(present):
            if member_id not in seated:
                raise ApiError(f"present[{i}]", f"{member_id!r} is not a seated member", 422)
        conn.execute(m.presence.delete().where(m.presence.c.round_id == round_id))
        for member_id in sorted(set(present)):
            conn.execute(m.presence.insert().values(round_id=round_id, member_id=member_id))
        log_change(conn, "round.roll_call", f"round:{round_id}", {"present": len(set(present))})
    return jsonify(round_id=round_id, present=len(set(present)))


@blueprint.post("/rounds/<round_id>/ballots")
def cast_ballot(round_id: str) -> ResponseReturnValue:
    """A member's vote: ``{"member_code": ..., "level": ...}``. No operator token."""
    data = json_body()
    guard = code_guard("member_code", data.get("member_code"))
    try:
        with change() as conn:
            voting.record_ballot(conn, round_id, data.get("member_code"), data.get("level"))
    except Refused as exc:
        count_failure(guard, exc)
        raise
    voting.forget_history(current_context().engine, insist=False)
    return jsonify(round_id=round_id, recorded=True), 201


@blueprint.get("/rounds/<round_id>")
@auth.require(*OPERATORS)
def get_round(round_id: str) -> Response:
    with current_context().engine.connect() as conn:
        r = queries.round_row(conn, round_id)
        voted, present = queries.round_counts(conn, round_id)
        return jsonify(round_json(r, voted=voted, present=present))


@blueprint.post("/rounds/<round_id>/close")
@auth.require(*FACILITATOR)
def close_round(round_id: str) -> Response:
    """Count the round. Its voters are rewritten in random order and, once committed, the
    database's history of the round is purged (voting.forget_history)."""
    ctx = current_context()
    with change() as conn:
        r = queries.round_row(conn, round_id)
        result = voting.close_round(conn, ctx, r, today())
        log_change(conn, "round.close", f"round:{round_id}",
                   {"support_share": result["support_share"],
                    "adopted": result["threshold_met"]})
        voted, present = queries.round_counts(conn, round_id)
        body = round_json(queries.round_row(conn, round_id), voted=voted, present=present)
    voting.forget_history(ctx.engine, insist=True)
    return jsonify(body)


@blueprint.post("/recommendations/<rec_id>/minority-statements")
@auth.require(*FACILITATOR)
def add_minority_statement(rec_id: str) -> ResponseReturnValue:
    data = json_body()
    statement = text(data, "text", max_len=10_000)
    supporters = data.get("supporters")
    if supporters is not None:
        a_whole_number(supporters, "supporters", 1, MAX_SUPPORTERS)
    with change() as conn:
        rec = queries.rec_row(conn, rec_id)
        if rec.status not in ("draft", "adopted"):
            raise ApiError("recommendation_id", f"the recommendation is {rec.status}", 409)
        round_id = data.get("round_id")
        if round_id is not None:
            r = queries.round_row(conn, round_id)
            if r.recommendation_id != rec_id:
                raise ApiError("round_id", "is a round of another recommendation")
        statement_id = str(uuid.uuid4())
        conn.execute(m.minority_statements.insert().values(
            id=statement_id, recommendation_id=rec_id, round_id=round_id, text=statement,
            supporters=supporters, recorded_by=who()[0], created_at=now()))
        log_change(conn, "minority_statement.add", f"recommendation:{rec_id}",
                   {"statement": statement_id})
    return jsonify(id=statement_id, recommendation_id=rec_id, text=statement,
                   supporters=supporters, round_id=round_id), 201


# --- the members' voting page -----------------------------------------------------------------

TEXT: dict[str, dict[str, Any]] = {
    "da": {
        "title": "Stem om en anbefaling", "language": "English", "skip": "Spring til indhold",
        "recommendation": "Anbefaling nr.", "round": "afstemningsrunde",
        "intro": "Skriv din personlige medlemskode og vælg, hvor stor opbakning du giver "
                 "anbefalingen. Din stemme er hemmelig, og du kan kun stemme én gang i hver "
                 "runde.",
        "code": "Medlemskode",
        "code_hint": "Koden står på dit medlemskort, fx AB12-CD34-EF56-7890.",
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



def _open_round(rec_id: str) -> tuple[Row | None, Row | None]:
    with current_context().engine.connect() as conn:
        rec = conn.execute(sa.select(m.recommendations.c.id, m.recommendations.c.seq)
                           .where(m.recommendations.c.id == rec_id)).first()
        if rec is None:
            return None, None
        return rec, queries.open_round(conn, rec_id)


@blueprint.route("/public/recommendations/<rec_id>/vote", methods=["GET", "POST"])
def vote_page(rec_id: str) -> ResponseReturnValue:
    lang = language()
    t: dict[str, Any] = TEXT[lang]
    other = "en" if lang == "da" else "da"
    rec, r = _open_round(rec_id)
    page: dict[str, Any] = {
            "lang": lang, "t": t, "rec": rec, "round": r, "errors": [], "level": None,
            "recorded": False,
            "other_url": url_for("voting.vote_page", rec_id=rec_id, lang=other),
            "action": url_for("voting.vote_page", rec_id=rec_id)}
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
    headers: dict[str, str] = {}
    if not errors:
        try:
            guard = code_guard("member_code", code)
            try:
                with change() as conn:
                    voting.record_ballot(conn, r.id, code, level)
                voting.forget_history(current_context().engine, insist=False)
            except Refused as exc:
                count_failure(guard, exc)
                errors.append((exc.kind, exc.field))
                status = exc.status
        except RateLimited as locked:
            t = {**t, "refused": {**t["refused"], "locked": locked_message(lang, locked)}}
            errors.append(("locked", "member_code"))
            status, headers = 429, {"Retry-After": str(locked.retry_after)}
    if errors:
        page["errors"] = [{"text": t["refused"][kind], "field": field} for kind, field in errors]
        # The code is never sent back into the form: it is the member's secret.
        return render_template("vote.html", **page, message=None), status, headers
    # Post/Redirect/Get: reloading the confirmation must not send the form again.
    return redirect(url_for("voting.vote_page", rec_id=rec_id, lang=lang, recorded=1), 303)
