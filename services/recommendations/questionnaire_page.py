"""The respondents' questionnaire page: a plain HTML form (no script needed) in Danish or
English. Members enter their member code, observers and organisers the one-time code they
were handed; the rules are those of the JSON API (questionnaires.record_response)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from services.common.web import ApiError
from services.recommendations.api import Refused, ctx, language
from services.recommendations.questionnaires import questionnaire_row, record_response

bp = Blueprint("questionnaire_page", __name__, template_folder="templates")

TEXT = {
    "da": {
        "language": "English", "skip": "Spring til indhold",
        "intro": "Dine svar er anonyme: de gemmes uden dit navn og kan ikke føres tilbage til "
                 "dig. Du kan kun svare én gang, og du må gerne springe spørgsmål over.",
        "member_code": "Medlemskode", "member_hint": "Koden står på dit medlemskort.",
        "respondent_code": "Svarkode", "respondent_hint": "Koden står på den seddel, du fik "
                                                          "udleveret. Den kan bruges én gang.",
        "submit": "Send svar", "errors": "Dine svar blev ikke gemt",
        "thanks": "Tak for dine svar", "thanks_text": "Svarene er gemt anonymt.",
        "closed": "Spørgeskemaet er lukket.", "unknown": "Spørgeskemaet findes ikke.",
        "refused": {
            "code_missing": "Skriv din kode.",
            "code_unknown": "Koden er ukendt. Tjek, at du har skrevet den rigtigt.",
            "not_member": "Kun medlemmer af panelet kan svare på dette spørgeskema.",
            "already": "Der er allerede svaret med denne kode. Man kan kun svare én gang.",
            "closed": "Spørgeskemaet er lukket. Dine svar blev ikke gemt.",
            "empty": "Besvar mindst ét spørgsmål.",
            "answers": "Et af svarene er ugyldigt. Vælg blandt mulighederne, og skriv højst "
                       "2000 tegn.",
        },
    },
    "en": {
        "language": "Dansk", "skip": "Skip to content",
        "intro": "Your answers are anonymous: they are kept without your name and cannot be "
                 "traced back to you. You can answer only once, and you may skip questions.",
        "member_code": "Member code", "member_hint": "The code is on your member card.",
        "respondent_code": "Response code", "respondent_hint": "The code is on the slip you "
                                                               "were given. It works once.",
        "submit": "Send answers", "errors": "Your answers were not saved",
        "thanks": "Thank you for your answers", "thanks_text": "The answers are saved "
                                                               "anonymously.",
        "closed": "The questionnaire is closed.", "unknown": "There is no such questionnaire.",
        "refused": {
            "code_missing": "Enter your code.",
            "code_unknown": "The code is unknown. Check that you typed it correctly.",
            "not_member": "Only members of the panel can answer this questionnaire.",
            "already": "This code has been used already. You can answer only once.",
            "closed": "The questionnaire is closed. Your answers were not saved.",
            "empty": "Answer at least one question.",
            "answers": "One of the answers is not valid. Choose among the options, and write "
                       "at most 2000 characters.",
        },
    },
}


@bp.route("/public/questionnaires/<questionnaire_id>/form", methods=["GET", "POST"])
def questionnaire_page(questionnaire_id):
    lang = language()
    t = TEXT[lang]
    other = "en" if lang == "da" else "da"
    page = {"lang": lang, "t": t, "q": None, "errors": [], "answers": {}, "recorded": False,
            "other_url": url_for("questionnaire_page.questionnaire_page",
                                 questionnaire_id=questionnaire_id, lang=other),
            "action": url_for("questionnaire_page.questionnaire_page",
                              questionnaire_id=questionnaire_id)}
    try:
        with ctx().engine.connect() as conn:
            q = questionnaire_row(conn, questionnaire_id)
    except ApiError:
        return render_template("questionnaire.html", **page, message=t["unknown"]), 404
    page["q"] = q
    page["code_field"] = "member_code" if q.audience == "member" else "respondent_code"
    if request.method == "GET":
        page["recorded"] = request.args.get("recorded") == "1"
        if q.status != "open" and not page["recorded"]:
            return render_template("questionnaire.html", **page, message=t["closed"]), 409
        return render_template("questionnaire.html", **page, message=None)

    answers = {question["id"]: request.form.get(f"q-{question['id']}", "")
               for question in q.questions}
    page["answers"] = answers
    code = request.form.get(page["code_field"], "")
    try:
        record_response(questionnaire_id, answers, **{page["code_field"]: code})
    except Refused as exc:
        page["errors"] = [{"text": t["refused"].get(exc.kind, t["refused"]["answers"]),
                           "field": exc.field}]
        # The code is never sent back into the form: it proves who may answer.
        return render_template("questionnaire.html", **page, message=None), exc.status
    # Post/Redirect/Get: reloading the thanks must not send the answers again.
    return redirect(url_for("questionnaire_page.questionnaire_page",
                            questionnaire_id=questionnaire_id, lang=lang, recorded=1), 303)
