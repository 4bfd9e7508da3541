"""The steps of ``kleroterion demo``: one regional assembly from the population extract to
the public report, through the services' real APIs and events. Every number printed is
read back from the services (or counted from their outputs), never assumed."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import pathlib
import re
import secrets
import shutil
import sys
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from tqdm import tqdm

from demos import population as popmod
from demos.harness import Client, Services
from demos.plot import plot_shares
from plugins.channels.letter import LetterChannel
from services.common import events
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.contracts.kleroterion.v1.platform_events_pb2 import AssemblyCreated
from services.registry import models

ASSEMBLY = "hovedstaden-klima-2025"
NAME = "Borgersamling om klimatilpasning i Region Hovedstaden"
FEATURES = ("sex", "age_band", "education", "area")
FEATURE_LABEL = {"sex": {"da": "Køn", "en": "Sex"}, "age_band": {"da": "Alder", "en": "Age"},
                 "education": {"da": "Uddannelse", "en": "Education"},
                 "area": {"da": "Område", "en": "Area"}}
VALUE_LABEL = {"male": {"da": "Mand", "en": "Male"}, "female": {"da": "Kvinde", "en": "Female"},
               **popmod.EDUCATION_LABEL}
SESSIONS = 6


def say(step: str, text: str) -> None:
    tqdm.write(f"[{step}] {text}", file=sys.stdout)
    sys.stdout.flush()


def bar(desc: str, total: int | None = None, unit: str = "it") -> tqdm:
    return tqdm(total=total, desc=f"  {desc}", unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True, mininterval=0.2)


def run_assembly(out: pathlib.Path, *, population: int = 100_000, invitations: int = 5_000,
                 response: float = 0.15, seats: int = 36, fmt_name: str = "assembly",
                 seed: int = 2025, draw_seed: str | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    today = date.today()
    svc = Services.start(out)
    try:
        return _run(svc, out, rng, today, started, population, invitations, response, seats,
                    fmt_name, draw_seed)
    finally:
        svc.close()


def _run(svc: Services, out: pathlib.Path, rng: np.random.Generator, today: date,
         started: float, n_population: int, n_invitations: int, response: float, seats: int,
         fmt_name: str, draw_seed: str | None) -> dict[str, Any]:
    fmt = svc.plugins.format(fmt_name)
    fmt.check_seats(seats)
    say("setup", f"registry, sortition (gRPC on 127.0.0.1:{svc.sortition.port}), sessions and "
                 f"recommendations on one in-process bus; SQLite databases in {out / 'data'}")
    say("setup", f"region file {out / 'region.toml'}: plugins {', '.join(svc.plugins.enabled)}; "
                 f"format {fmt.name} ({fmt.title['da']}), {seats} seats")

    registry = svc.client("registry", "region_admin")
    public = svc.client("registry", None)

    # --- 1. the assembly and its population -------------------------------------------
    session_dates = [(today + timedelta(days=42 + 14 * k)).isoformat() for k in range(SESSIONS)]
    registry.post("/api/assemblies", {
        "id": ASSEMBLY, "name": NAME, "session_dates": session_dates,
        "questions": [{"id": "education", "label": {"da": "Højeste fuldførte uddannelse",
                                                    "en": "Highest completed education"},
                       "options": [{"value": v, "label": popmod.EDUCATION_LABEL[v]}
                                   for v in popmod.EDUCATION]}]})
    svc.bus.publish(events.new_event(
        AssemblyCreated(name=NAME, format=fmt.name, seats=seats, scope="Region Hovedstaden"),
        assembly_id=ASSEMBLY, region="hovedstaden", producer="platform"))
    svc.pump()

    t = time.perf_counter()
    pop = popmod.make_population(n_population, rng, today)
    extract = popmod.extract_csv(pop)
    r = registry.post(f"/api/assemblies/{ASSEMBLY}/extracts", data={
        "file": (io.BytesIO(extract), "cpr-udtraek.csv"),
        "mapping": json.dumps(popmod.EXTRACT_MAPPING)}, content_type="multipart/form-data")
    imported = r.json
    stats = registry.get(f"/api/assemblies/{ASSEMBLY}").json
    say("population", f"{imported['rows']:,} synthetic adults in {len(set(pop.municipality))} "
                      f"municipalities of Region Hovedstaden imported into the registry "
                      f"(extract SHA-256 {imported['sha256'][:16]}…, {stats['population']:,} "
                      f"persons stored sealed) in {time.perf_counter() - t:.1f} s")
    shares = {f: pop.share(f) for f in FEATURES}
    say("population", "mix: " + "; ".join(
        f"{f} " + ", ".join(f"{v} {s:.0%}" for v, s in shares[f].items()) for f in FEATURES))

    # --- 2. invitations ---------------------------------------------------------------
    template = registry.post(f"/api/assemblies/{ASSEMBLY}/templates", {"content": {
        "da": {"subject": "Du er inviteret til {assembly}",
               "body": "Kære {name}\n\nDu er udtrukket blandt alle voksne i Region "
                       "Hovedstaden til at kunne deltage i {assembly}. Tilmeld dig på "
                       "{signup_url} med koden {code}."},
        "en": {"subject": "You are invited to {assembly}",
               "body": "Dear {name}\n\nYou have been drawn among all adults in the Capital "
                       "Region to take part in {assembly}. Sign up at {signup_url} with the "
                       "code {code}."}}}).json["id"]
    preview = registry.post(f"/api/templates/{template}/preview", {"language": "da"}).json
    for channel, p in preview["previews"].items():
        first = p["body"].splitlines()[0] if p["body"] else ""
        say("invitations", f"preview {channel}: “{p['subject']}” / “{first} …”")
    test = registry.post(f"/api/templates/{template}/test-send", {
        "channel": "digital_post", "recipient": {"name": "Test Modtager", "cpr": "0101709999",
                                                 "address": "Demovej 1", "postcode": "3400"}}).json
    registry.post(f"/api/templates/{template}/approve")
    say("invitations", f"template test-sent via {test['channel']} ({test['status']}) and approved")

    rollout = registry.post(f"/api/assemblies/{ASSEMBLY}/rollouts", {
        "scope": "Region Hovedstaden", "size": n_invitations, "seed": secrets.token_hex(16)}).json
    say("invitations", f"lottery of {rollout['invitations']:,} invitations over "
                       f"{len(rollout['allocation'])} municipalities (seed {rollout['seed']}), "
                       f"e.g. København {rollout['allocation'].get('101', 0):,}, "
                       f"Bornholm {rollout['allocation'].get('400', 0):,}")
    sent = registry.post(f"/api/rollouts/{rollout['id']}/send", {"template_id": template}).json
    t = time.perf_counter()
    with bar("channel worker", sent["requested"], "inv") as b:
        def tick(_consumed: int, b: tqdm = b) -> None:
            b.n = _delivered(svc)
            b.refresh()
        svc.pump(progress=tick)
    letter_channel = svc.registry.dispatcher.channels["letter"]
    if not isinstance(letter_channel, LetterChannel):
        raise RuntimeError(f"letter: the region file's letter channel is a "
                           f"{type(letter_channel).__name__}, not the letter plugin's")
    batches = []
    while (batch := letter_channel.close_batch()) is not None:
        batches.append(batch)
    deliveries = registry.get(f"/api/rollouts/{rollout['id']}/deliveries").json["deliveries"]
    by_channel: Counter[tuple[str, str]] = Counter()
    for d in deliveries:
        by_channel[(d["channel"], d["state"])] += d["count"]
    say("invitations", f"dispatched in {time.perf_counter() - t:.1f} s: " + ", ".join(
        f"{n:,} {ch} {st}" for (ch, st), n in sorted(by_channel.items(), key=str)))
    dp_outbox = out / "channels" / "digital_post" / "outbox"
    # The template's test message lies there too (its id starts with "test-").
    memos = sorted(p_ for p_ in dp_outbox.glob("*.xml") if not p_.name.startswith("test-"))
    say("invitations", f"{len(memos):,} MeMo messages (+ the test) in {dp_outbox}; "
                       f"{sum(b.count for b in batches):,} letters printed in "
                       f"{', '.join(b.pdf.name for b in batches) or 'no batch'}")

    # --- 3. sign-ups ------------------------------------------------------------------
    # Citizens find their code in what the channels produced: the MeMo message (recipient
    # by CPR) or the printed letter (by name).
    by_cpr = {c: k for k, c in enumerate(pop.cpr)}
    by_name = {nm: k for k, nm in enumerate(pop.name)}
    received: list[tuple[int, str, bool]] = []
    for path in memos:
        xml = path.read_text(encoding="utf-8")
        cpr = _first_group(r"<memo:recipientID>(\d{10})<", xml, path)
        code = _first_group(r"code=([A-Z0-9]+)", xml, path)
        received.append((by_cpr[cpr], code, False))
    for b in batches:
        with open(b.csv, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                received.append((by_name[row["name"]], row["code"], True))
    people = np.array([k for k, _, _ in received])
    by_letter = np.array([letter for _, _, letter in received], dtype=float)
    p = popmod.response_probability(pop, people, by_letter, response)
    answers = rng.random(len(received)) < p
    signed = 0
    t = time.perf_counter()
    with bar("sign-ups", int(answers.sum()), "person") as b:
        for (k, code, _), yes in zip(received, answers, strict=True):
            if not yes:
                continue
            public.post("/api/public/signup", {"code": code, "available": True, "consent": True,
                                               "language": pop.language[k],
                                               "answers": {"education": pop.education[k]}},
                        expect=(201,))
            signed += 1
            b.update(1)
    svc.pump()
    st = registry.get(f"/api/assemblies/{ASSEMBLY}/statistics").json
    say("sign-up", f"{st['total']['signed_up']:,} of {st['total']['invited']:,} invited signed "
                   f"up ({st['total']['response_rate']:.1%}) through the public sign-up endpoint "
                   f"in {time.perf_counter() - t:.1f} s; by age: " + ", ".join(
                       f"{v} {d['response_rate']:.0%}"
                       for v, d in st["features"]["age_band"].items()))

    # --- 4. the pool, the quotas and the draw -------------------------------------------
    export = registry.post(f"/api/assemblies/{ASSEMBLY}/pool-exports?format=json")
    pool_people = json.loads(export.data)["people"]
    svc.pump()
    for person in pool_people:
        person["area"] = popmod.AREA_OF[int(person["municipality_code"])]
    say("pool", f"{len(pool_people):,} volunteers exported (pool version "
                f"{export.headers['X-Pool-Version'][:8]}…, SHA-256 "
                f"{export.headers['X-Pool-SHA256'][:16]}…)")
    quotas = make_quotas(shares, seats)
    pool = pb.Pool(seats=seats, household_rule=pb.HOUSEHOLD_RULE_NONE)
    for person in pool_people:
        pool.people.add(id=person["id"], features={f: str(person[f]) for f in FEATURES})
    for q in quotas:
        pool.quotas.add(**q)
    say("quotas", "proportional to the population with a seat of slack: " + "; ".join(
        f"{q['feature']}={q['value']} {q['min']}–{q['max']}" for q in quotas))
    report = svc.stub.CheckFeasibility(pb.CheckFeasibilityRequest(pool=pool))
    say("quotas", f"feasibility: {report.summary} ({report.seconds:.2f} s)")
    if not report.feasible:
        raise RuntimeError(f"quotas: no panel meets them ({report.summary})")

    t = time.perf_counter()
    result: Any = None  # the stream's result message (protobuf messages are Any here)
    with bar("leximin", None, "iter") as b:
        for update in svc.stub.ComputeDistribution(pb.ComputeDistributionRequest(
                assembly_id=ASSEMBLY, pool=pool, algorithm="leximin")):
            if update.HasField("progress"):
                b.set_description(f"  leximin {update.progress.phase}")
                b.set_postfix(min_p=f"{update.progress.min_probability:.5f}")
                b.update(1)
            else:
                result = update.result
    lottery_path = out / "lottery.json"
    lottery_path.write_bytes(result.lottery_json)
    # What anyone checks the lottery against (kleroterion verify): the quotas, the pool's
    # pseudonymous ids with their quota answers, and the published distribution.
    with open(out / "quotas.csv", "w", newline="", encoding="utf-8") as fh:
        quota_rows = csv.writer(fh)
        quota_rows.writerow(["feature", "value", "min", "max"])
        quota_rows.writerows([q["feature"], q["value"], q["min"], q["max"]] for q in quotas)
    with open(out / "pool.csv", "w", newline="", encoding="utf-8") as fh:
        pool_rows = csv.writer(fh)
        pool_rows.writerow(["id", *FEATURES])
        pool_rows.writerows([m.id, *(m.features[f] for f in FEATURES)] for m in pool.people)
    with open(out / "probabilities.csv", "w", newline="", encoding="utf-8") as fh:
        chance_rows = csv.writer(fh)
        chance_rows.writerow(["id", "probability", "lottery_probability"])
        chance_rows.writerows([x.id, f"{x.probability:.9f}", f"{x.lottery_probability:.9f}"]
                              for x in result.probabilities)
    (out / "lottery.json.sha256").write_text(f"{result.lottery_sha256}  lottery.json\n")
    if hashlib.sha256(lottery_path.read_bytes()).hexdigest() != result.lottery_sha256:
        raise RuntimeError("lottery.json: the written file does not match its SHA-256")
    n_pool = len(pool_people)
    say("draw", f"leximin in {time.perf_counter() - t:.1f} s: lowest selection chance "
                f"{result.stats.min_probability:.5f} (k/n = {seats / n_pool:.5f}), Gini "
                f"{result.stats.gini:.3f}, {result.support_size} panels in the support")
    say("draw", f"published {lottery_path} ({result.lottery_size} panels, largest rounding "
                f"deviation {result.max_rounding_deviation:.5f}) with SHA-256 "
                f"{result.lottery_sha256}")
    # Published and frozen first: only this run can be drawn, and the seed comes after it
    # (at a real assembly: from a public event such as the numbers of a televised lottery);
    # here it is fresh randomness unless given.
    published = svc.stub.PublishLottery(pb.PublishLotteryRequest(
        run_id=result.run_id, published_by="demo organiser"))
    seed_text = draw_seed or secrets.token_hex(8)
    drawn = svc.stub.DrawPanel(pb.DrawPanelRequest(
        run_id=result.run_id, seed=seed_text, entered_by="demo notary",
        seed_source="" if draw_seed is None else "given to the demo (--seed)"))
    subs_count = max(1, math.ceil(seats * fmt.dropout.substitutes_per_seat))
    subs = svc.stub.DrawSubstitutes(pb.DrawSubstitutesRequest(run_id=result.run_id,
                                                              count=subs_count))
    svc.pump()
    say("draw", f"lottery published {published.published_at} by {published.published_by}; "
                f"seed entered {drawn.entered_at} by {drawn.entered_by}")
    say("draw", f"seed {drawn.seed!r} drew panel {drawn.panel_index} of {drawn.lottery_size}: "
                f"{len(drawn.panel_ids)} members; {len(subs.substitute_ids)} substitutes on the "
                f"ordered reserve list")
    features_of = {p_["id"]: p_ for p_ in pool_people}
    panel_counts = {f: Counter(features_of[i][f] for i in drawn.panel_ids) for f in FEATURES}
    broken = [f"{q['feature']}={q['value']}" for q in quotas
              if not q["min"] <= panel_counts[q["feature"]][q["value"]] <= q["max"]]
    say("draw", "panel meets every quota" if not broken else f"QUOTAS BROKEN: {broken}")
    reg_states = Counter(x["state"] for x in registry.get(
        f"/api/assemblies/{ASSEMBLY}/registrants").json["registrants"])
    say("draw", "registry after panel_drawn/substitutes_drawn: " + ", ".join(
        f"{n} {s}" for s, n in sorted(reg_states.items())))

    # --- 5. sessions --------------------------------------------------------------------
    sessions = svc.client("sessions", "platform_operator")
    facilitator = svc.client("sessions", "facilitator")
    composition = sessions.get(f"/api/assemblies/{ASSEMBLY}/composition").json
    say("sessions", f"sessions service seated {_count(composition, 'offered')} members "
                    f"(offered) and {_count(composition, 'substitute')} substitutes from "
                    f"panel_drawn and substitutes_drawn")
    for member in drawn.panel_ids:
        facilitator.post(f"/api/assemblies/{ASSEMBLY}/members/{member}/response",
                         {"answer": "confirmed"})
    session_ids: list[str] = []
    group_items: list[str] = []
    for k, day in enumerate(session_dates, start=1):
        sid, gid = f"s{k}", f"s{k}-grupper"
        sessions.post(f"/api/assemblies/{ASSEMBLY}/sessions", {
            "id": sid, "title": f"Samling {k}", "starts_at": f"{day}T10:00:00",
            "ends_at": f"{day}T15:30:00", "place": "Regionsgården, Hillerød",
            "host": "Region Hovedstaden",
            "agenda": [{"kind": "expert_talk", "title": "Oplæg og spørgsmål", "minutes": 75},
                       {"id": gid, "kind": "group_work", "title": "Gruppearbejde",
                        "minutes": 120, "table_size": 6},
                       {"kind": "plenary", "title": "Plenum", "minutes": 90}],
            "guests": [{"kind": "expert", "name": EXPERTS[(k - 1) % len(EXPERTS)][0],
                        "organisation": EXPERTS[(k - 1) % len(EXPERTS)][1]}]})
        session_ids.append(sid)
        group_items.append(gid)
    programme = sessions.get(f"/api/assemblies/{ASSEMBLY}/programme").json
    say("sessions", f"programme of {len(programme['sessions'])} sessions; check: "
                    f"{_check_text(programme.get('check'))}")
    dropout: str | None = None
    replacement: str | None = None
    with bar("sessions", SESSIONS, "session") as b:
        for k, (sid, gid) in enumerate(zip(session_ids, group_items, strict=True), start=1):
            if k == 2:
                # Before the cut-off (session ≤ replace_before_session) a seat is refilled.
                # Someone the reserve list covers: a member whom nobody in the pool can
                # replace within the quotas would need the operator to relax a quota.
                covered = sorted(set(drawn.panel_ids) - set(subs.uncovered_member_ids))
                dropout = str(rng.choice(covered or sorted(drawn.panel_ids)))
                comp = facilitator.post(
                    f"/api/assemblies/{ASSEMBLY}/members/{dropout}/withdraw",
                    {"reason": "moved abroad", "before_session": k}).json
                offered = [m for m in comp["members"] if m.get("replaces") == dropout]
                how = "from the reserve list"
                if not offered:
                    # No reserve keeps the quotas: sessions asked sortition for a top-up
                    # draw over the bus; its substitutes arrive with the next pump.
                    svc.pump()
                    comp = facilitator.get(f"/api/assemblies/{ASSEMBLY}/composition").json
                    offered = [m for m in comp["members"] if m.get("replaces") == dropout]
                    how = "from a top-up draw"
                if offered:
                    replacement = offered[0]["member_id"]
                    facilitator.post(
                        f"/api/assemblies/{ASSEMBLY}/members/{replacement}/response",
                        {"answer": "confirmed"})
                svc.pump()
                say("dropout", f"member {dropout[:8]}… withdrew before session {k} (cut-off: "
                               f"before session {fmt.dropout.replace_before_session}); "
                               + (f"substitute {replacement[:8]}… ({how}) keeps the quotas, was "
                                  f"offered the seat and confirmed" if replacement else
                                  "no substitute keeps the quotas and the top-up found none"))
            seated = [x["member_id"] for x in facilitator.get(
                f"/api/sessions/{sid}/attendance").json["members"]]
            for member in seated:
                facilitator.put(f"/api/sessions/{sid}/attendance",
                                {"member_id": member, "present": bool(rng.random() > 0.06)})
            groups = facilitator.post(f"/api/agenda-items/{gid}/groups", {"seed": f"{gid}"}).json
            held = facilitator.post(f"/api/sessions/{sid}/held").json
            svc.pump()
            attending = sum(1 for x in facilitator.get(f"/api/sessions/{sid}/attendance")
                            .json["members"] if x["present"])
            say("sessions", f"session {k}: {attending} of {len(seated)} present; "
                            f"{len(groups['tables'])} tables; distinct pairs so far "
                            f"{groups['distinct_pairs']}, repeated pairings "
                            f"{groups['repeat_pairings']}; {held['held_hours']:g} hours held")
            b.update(1)
    attendance = facilitator.get(f"/api/assemblies/{ASSEMBLY}/attendance").json
    flagged = [x for x in attendance["members"] if x["flagged"]]
    say("sessions", f"{attendance['held_hours']:g} hours over {SESSIONS} sessions; "
                    f"{len(flagged)} members below {attendance['min_attendance_share']:.0%} "
                    f"attendance")

    # --- 6. recommendations ---------------------------------------------------------------
    recs = svc.client("recommendations", "facilitator")
    admin = svc.client("recommendations", "administration")
    voters = svc.client("recommendations", None)
    recs.put(f"/assemblies/{ASSEMBLY}", {"name": NAME})
    members = [m["member_id"] for m in recs.get(f"/assemblies/{ASSEMBLY}/members").json["members"]
               if m["seated"]]
    codes = {m: recs.post(f"/assemblies/{ASSEMBLY}/members/{m}/code").json["member_code"]
             for m in members}
    say("recommendations", f"{len(members)} seated members (from panel_drawn, member_withdrew, "
                           f"seat_filled) got personal member codes")
    last = session_ids[-1]
    present = [x["member_id"] for x in facilitator.get(f"/api/sessions/{last}/attendance")
               .json["members"] if x["present"]]
    outcomes: list[tuple[str, int, dict[str, Any]]] = []
    for title, text, theme, support in PROPOSALS:
        rec = recs.post(f"/assemblies/{ASSEMBLY}/recommendations", {
            "title": title, "text": text, "rationale": RATIONALE, "theme": theme,
            "values": ["tryghed", "retfærdighed"]}).json
        rounds = 0
        for attempt, level_mean in enumerate(support):
            if attempt:  # the proposal is reworked between rounds
                recs.put(f"/recommendations/{rec['id']}", {
                    "text": text + " Indsatsen prioriteres efter risiko.",
                    "reason": "omformuleret efter første afstemning"})
            rnd = recs.post(f"/recommendations/{rec['id']}/rounds").json["id"]
            recs.put(f"/rounds/{rnd}/roll-call", {"present": present})
            for member in present:
                voters.post(f"/rounds/{rnd}/ballots", {"member_code": codes[member],
                                                       "level": _ballot(rng, level_mean)},
                            expect=(201,))
            closed = recs.post(f"/rounds/{rnd}/close").json
            rounds += 1
            res = closed["result"]
            if res["threshold_met"]:
                break
        outcomes.append((title, rounds, res))
        say("vote", f"“{title}”: {rounds} round(s), {res['votes']} votes, "
                    f"{res['support_share']:.0%} support (needs {res['threshold']:.0%}) → "
                    f"{'ADOPTED' if res['threshold_met'] else 'not adopted'}")
    svc.pump()
    admin.put(f"/assemblies/{ASSEMBLY}/handover", {
        "receiving_body": "Regionsrådet i Region Hovedstaden", "body_kind": "regional_council",
        "handed_over_on": (today + timedelta(days=140)).isoformat()}, expect=(200,))

    # --- 7. the report, the transparency page and the plot ------------------------------
    final_panel = [x for x in facilitator.get(f"/api/sessions/{last}/attendance").json["members"]]
    final_ids = [x["member_id"] for x in final_panel]
    seated_counts = {f: Counter(features_of[i][f] for i in final_ids) for f in FEATURES}
    rows: list[dict[str, Any]] = []
    for f in FEATURES:
        for v, share in shares[f].items():
            row = {"feature": f, "category": v, "population_share": round(share, 4),
                   "panel_count": seated_counts[f].get(v, 0), "feature_label": FEATURE_LABEL[f]}
            if v in VALUE_LABEL:
                row["label"] = VALUE_LABEL[v]
            rows.append(row)
    recs.put(f"/assemblies/{ASSEMBLY}/report-input", {
        "title": {"da": NAME,
                  "en": "Citizens' assembly on climate adaptation in the Capital Region"},
        "composition": rows,
        "experts_heard": [{"name": n, "role": {"da": o, "en": o}} for n, o in EXPERTS],
        "process_summary": {
            "da": f"{n_invitations:,} borgere blev inviteret ved lodtrækning; {signed:,} meldte "
                  f"sig, og {seats} blev udtrukket med leximin og et offentligt seed.",
            "en": f"{n_invitations:,} citizens were invited by lottery; {signed:,} signed up "
                  f"and {seats} were drawn with leximin and a public seed."}})
    released = recs.post(f"/assemblies/{ASSEMBLY}/reports/release").json
    files: dict[tuple[str, str], pathlib.Path] = {}
    for f in released["files"]:
        body = voters.get(f["url"]).data
        path = out / f["name"]
        path.write_bytes(body)
        files[(f["language"], f["format"])] = path
    for lang in ("da", "en"):
        page = voters.get(f"/public/assemblies/{ASSEMBLY}?lang={lang}").data
        name = "transparency.html" if lang == "da" else f"transparency-{lang}.html"
        (out / name).write_bytes(page)
    (out / "open-data.json").write_bytes(
        voters.get(f"/public/assemblies/{ASSEMBLY}/open-data.json").data)
    pool_shares = {f: _shares(Counter(p_[f] for p_ in pool_people)) for f in FEATURES}
    panel_shares = {f: _shares(seated_counts[f]) for f in FEATURES}
    plot_path = out / "composition.png"
    plot_shares(plot_path, shares, pool_shares, panel_shares, FEATURE_LABEL,
                title=f"{NAME}: population {n_population:,}, pool {n_pool:,}, "
                      f"panel {len(final_ids)}")
    (out / "panel.json").write_text(json.dumps({
        "run_id": result.run_id, "seed": drawn.seed, "panel_index": drawn.panel_index,
        "lottery_sha256": drawn.lottery_sha256, "panel_ids": list(drawn.panel_ids),
        "substitute_ids": list(subs.substitute_ids), "quotas": quotas,
        "withdrawn": dropout, "replacement": replacement, "final_panel": final_ids,
        "pool_features": {i: {f: features_of[i][f] for f in FEATURES}
                          for i in [*drawn.panel_ids, *subs.substitute_ids]}},
        indent=1, ensure_ascii=False))
    say("report", f"final report: {files[('da', 'HTML')]} and {files[('da', 'PDF')]} "
                  f"(English: {files[('en', 'HTML')].name}, {files[('en', 'PDF')].name})")
    say("report", f"transparency page: {out / 'transparency.html'}; plot: {plot_path}")
    evaluation = _evaluate(svc, recs, voters, rng, out, codes, present, shares)
    if svc.dead_letters():
        say("bus", f"WARNING: {svc.dead_letters()} events went to a dead-letter topic")
    verify = (f"kleroterion verify --lottery {lottery_path} --seed {drawn.seed} "
              f"--expect-sha256 {drawn.lottery_sha256} --categories {out / 'quotas.csv'} "
              f"--respondents {out / 'pool.csv'} --id-column id "
              f"--probabilities {out / 'probabilities.csv'}")
    say("done", f"in {time.perf_counter() - started:.0f} s. Report: {files[('da', 'HTML')]}")
    say("done", f"check the draw yourself: {verify}")
    return {"lottery": lottery_path, "seed": drawn.seed, "sha256": drawn.lottery_sha256,
            "panel_ids": list(drawn.panel_ids), "panel_index": drawn.panel_index,
            "quotas": quotas, "files": files, "plot": plot_path, "verify": verify,
            "outcomes": outcomes, "final_panel": final_ids, "pool_size": n_pool,
            "evaluation": evaluation}


def _evaluate(svc: Services, recs: Client, voters: Client, rng: np.random.Generator,
              out: pathlib.Path, codes: dict[str, str], present: list[str],
              shares: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The OECD-style evaluation: anonymous questionnaires, then the evaluation report built
    from what the registry, sortition and sessions told the recommendations service."""
    # The extract holds sex, age and municipality; the organiser gives the population's
    # shares of the rest (from Statistics Denmark, here the synthetic population's).
    recs.put(f"/assemblies/{ASSEMBLY}/evaluation/population-targets", {
        "population_targets": {f: {v: round(x, 4) for v, x in shares[f].items()}
                               for f in ("education", "area")}})
    q = recs.post(f"/assemblies/{ASSEMBLY}/questionnaires",
                  {"audience": "member", "stage": "final"}).json
    answered = 0
    for member in present:
        if rng.random() > 0.85:  # not everyone answers
            continue
        answers = {x["id"]: str(int(np.clip(round(rng.normal(4.1, 0.8)), 1, 5)))
                   for x in q["questions"] if x["kind"] == "agree"}
        if rng.random() < 0.3:
            answers["comment"] = "Det var lærerigt at høre de andres synspunkter."
        voters.post(f"/public/questionnaires/{q['questionnaire_id']}/responses",
                    {"member_code": codes[member], "answers": answers}, expect=(201,))
        answered += 1
    obs = recs.post(f"/assemblies/{ASSEMBLY}/questionnaires",
                    {"audience": "observer", "stage": "final"}).json
    slips = recs.post(f"/questionnaires/{obs['questionnaire_id']}/codes", {"count": 6}).json
    for code in slips["codes"][:5]:
        voters.post(f"/public/questionnaires/{obs['questionnaire_id']}/responses", {
            "respondent_code": code, "answers": {
                x["id"]: str(int(rng.integers(3, 6)))
                for x in obs["questions"] if x["kind"] == "agree"}}, expect=(201,))
    for qid in (q["questionnaire_id"], obs["questionnaire_id"]):
        recs.post(f"/questionnaires/{qid}/close", expect=(200,))
    say("evaluation", f"{answered} of {len(present)} members and 5 observers answered the "
                      f"anonymous questionnaires")
    data = recs.get(f"/assemblies/{ASSEMBLY}/evaluation").json
    for f in data["representativeness"]["features"]:
        if f["distance_signed_up"] is not None and f["distance_drawn"] is not None:
            say("evaluation", f"{f['feature']}: the volunteers were "
                              f"{f['distance_signed_up']:.1%} away from the population, the "
                              f"panel {f['distance_drawn']:.1%}")
    files: dict[str, pathlib.Path] = {}
    for lang in ("da", "en"):
        index = voters.get(f"/public/assemblies/{ASSEMBLY}/evaluation?lang={lang}")
        for name in re.findall(r'href="[^"]*/evaluation/' + lang + r'/([^"]+)"',
                               index.get_data(as_text=True)):
            path = out / "evaluation" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(voters.get(f"/public/assemblies/{ASSEMBLY}/evaluation/{lang}/{name}")
                             .data)
            files[name] = path
    internal: dict[str, pathlib.Path] = {}
    for f in recs.get(f"/assemblies/{ASSEMBLY}/evaluation/reports/da").json["reports"]:
        if f["name"].endswith((".html", ".pdf")):
            path = out / "evaluation" / f["name"]
            path.write_bytes(recs.get(f["url"]).data)
            internal[f["name"]] = path
    public_html = next(p for n, p in files.items() if n.endswith("public-da.html"))
    say("evaluation", f"public evaluation report: {public_html} (and PDF, English, plots); "
                      f"organisers' edition: {next(iter(internal.values())).name}")
    return {"public": files, "internal": internal, "respondents": answered}


EXPERTS = [("Prof. Ida Hansen", "DTU Sustain"), ("Jonas Berg", "Klimatilpasning, HOFOR"),
           ("Dr. Maria Sørensen", "DMI"), ("Lars Holm", "Forsikring & Pension"),
           ("Sara Nielsen", "Danmarks Naturfredningsforening"), ("Ahmed Karimi", "KL")]
RATIONALE = "Borgerne lægger vægt på, at byrderne fordeles retfærdigt og at indsatsen er synlig."
# (title, text, theme, mean support level per round: 0 = full support … 4 = opposition)
PROPOSALS = [
    ("Skybrudssikring af alle bydele inden 2035",
     "Regionen og kommunerne laver en fælles plan for skybrudssikring af alle bydele.",
     "Vand", (0.3,)),
    ("Grønne tage på offentlige bygninger",
     "Alle nye og renoverede offentlige bygninger får grønne tage, hvor det er muligt.",
     "Byggeri", (1.6, 0.5)),
    ("Forbud mod nye boliger i lavtliggende områder",
     "Der må ikke bygges nye boliger i områder under 2 meter over havet.", "Planlægning",
     (2.4, 2.1)),
    ("Klimatilpasning i undervisningen",
     "Klimatilpasning bliver en del af undervisningen i folkeskolen og på erhvervsskolerne.",
     "Uddannelse", (0.9,)),
]
LEVELS = ("full_support", "support", "neutral", "reservations", "opposition")


def _ballot(rng: np.random.Generator, mean: float) -> str:
    if rng.random() < 0.03:
        return "abstain"
    level = int(np.clip(np.rint(rng.normal(mean, 0.9)), 0, 4))
    return LEVELS[level]


def make_quotas(shares: dict[str, dict[str, float]], seats: int) -> list[dict[str, Any]]:
    """Proportional to the population per feature, with one seat of slack either way."""
    quotas: list[dict[str, Any]] = []
    for feature, values in shares.items():
        for value, share in values.items():
            ideal = share * seats
            quotas.append({"feature": feature, "value": value,
                           "min": max(0, math.floor(ideal) - 1),
                           "max": min(seats, math.ceil(ideal) + 1)})
    return quotas


def _shares(counts: Counter[Any]) -> dict[str, float]:
    total = sum(counts.values())
    return {str(k): v / total for k, v in counts.items()} if total else {}


def _count(composition: dict[str, Any], status: str) -> int:
    return sum(1 for m in composition["members"] if m["status"] == status)


def _check_text(check: object) -> str:
    if not check:
        return "n/a"
    if isinstance(check, dict):
        problems = check.get("problems") or check.get("warnings") or []
        ok = check.get("ok", not problems)
        return "meets the format's minimums" if ok else "; ".join(map(str, problems))
    return str(check)


def _first_group(pattern: str, text: str, path: pathlib.Path) -> str:
    """The first group of ``pattern`` in a channel's output file."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"{path}: no {pattern!r} in it")
    return match.group(1)


def _delivered(svc: Services) -> int:
    """Invitations the channel worker has finished with (for the progress bar)."""
    with svc.registry.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(models.deliveries)
                           .where(models.deliveries.c.state != "sending")) or 0
