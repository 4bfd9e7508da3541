"""Helpers of the registry tests: an in-test channel, a synthetic extract, an API client."""
from __future__ import annotations

import io
import json

from services.common.hookspecs import DeliveryResult, Invitation, hookimpl

MAPPING = {"columns": {"person_key": "CPR", "name": "Navn", "address": "Adresse",
                       "postcode": "Postnr", "municipality_code": "Kommune",
                       "birth_date": "Foedt", "sex": "Koen", "email": "Email"},
           "delimiter": ";"}
HEADER = "CPR;Navn;Adresse;Postnr;Kommune;Foedt;Koen;Email"


class Outbox:
    """A channel that keeps what it sent; ``fail`` scripts failures per invitation."""

    def __init__(self, name="outbox", reach=lambda r: r.email is not None):
        self.name = name
        self.reach = reach
        self.sent: list[Invitation] = []
        self.calls: list[str] = []
        self.fail: dict[str, list[DeliveryResult]] = {}
        self.crash_after_send: set[str] = set()

    def can_reach(self, recipient):
        return self.reach(recipient)

    def render(self, recipient, template, assembly):
        return Invitation(self.name, recipient, template["subject"],
                          template["body"].replace("{name}", recipient.name or ""),
                          assembly["signup_url"])

    def send(self, invitation):
        iid = invitation.recipient.invitation_id
        self.calls.append(iid)
        scripted = self.fail.get(iid)
        if scripted:
            return scripted.pop(0)
        self.sent.append(invitation)
        if iid in self.crash_after_send:
            self.crash_after_send.discard(iid)
            raise SystemExit("worker died right after the channel accepted the letter")
        return DeliveryResult("sent", "ok")

    def delivery_status(self, invitation_id):
        if any(i.recipient.invitation_id == invitation_id for i in self.sent):
            return DeliveryResult("sent", "in outbox")
        return None


class ChannelPlugin:
    def __init__(self, *channels):
        self.channels = channels

    @hookimpl
    def register_invitation_channels(self, settings):
        return list(self.channels)


def person_rows(n: int, *, municipalities=(101, 147, 230), start=0, household_size=1):
    rows = []
    for k in range(start, start + n):
        code = municipalities[k % len(municipalities)]
        house = k // household_size
        year = 1940 + k % 60
        rows.append(f"{(k % 28) + 1:02d}01{year % 100:02d}{k:04d}"[:10] + ";"
                    f"Person {k};Vej {house}, 1. th;{1000 + house % 900};{code};"
                    f"{year}-01-{(k % 28) + 1:02d};{'MK'[k % 2]};p{k}@example.invalid")
    return rows


def extract(rows, header=HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


class Api:
    """A test client that carries an operator token."""

    def __init__(self, app, ctx, role="platform_operator"):
        self.client = app.test_client()
        self.ctx = ctx
        self.headers = {"Authorization": f"Bearer {ctx.tokens.issue('tester', role)}"}

    def post(self, url, json_body=None, **kw):
        return self.client.post(url, json=json_body, headers=self.headers, **kw)

    def get(self, url):
        return self.client.get(url, headers=self.headers)

    def assembly(self, assembly_id="a1", questions=None):
        questions = questions if questions is not None else [{
            "id": "education", "label": {"da": "Uddannelse", "en": "Education"},
            "options": [{"value": "short", "label": {"da": "Kort", "en": "Short"}},
                        {"value": "long", "label": {"da": "Lang", "en": "Long"}}]}]
        r = self.post("/api/assemblies", {"id": assembly_id, "name": "Borgersamling om vand",
                                          "questions": questions,
                                          "session_dates": ["2030-03-01", "2030-03-15"]})
        assert r.status_code == 201, r.json
        return r.json

    def upload(self, assembly_id, data: bytes, mapping=MAPPING):
        return self.client.post(f"/api/assemblies/{assembly_id}/extracts", headers=self.headers,
                                data={"file": (io.BytesIO(data), "extract.csv"),
                                      "mapping": json.dumps(mapping)},
                                content_type="multipart/form-data")

    def approved_template(self, assembly_id, channel="outbox"):
        t = self.post(f"/api/assemblies/{assembly_id}/templates", {"content": {
            "da": {"subject": "Invitation", "body": "Kære {name}, din kode er {code}"},
            "en": {"subject": "Invitation", "body": "Dear {name}, your code is {code}"}}})
        assert t.status_code == 201, t.json
        tid = t.json["id"]
        r = self.post(f"/api/templates/{tid}/test-send",
                      {"channel": channel,
                       "recipient": {"name": "Test", "email": "t@example.invalid"}})
        assert r.status_code == 200, r.json
        assert self.post(f"/api/templates/{tid}/approve").status_code == 200
        return tid
