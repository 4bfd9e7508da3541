"""A small assembly driven through the four services as separate processes on Kafka and
PostgreSQL: only their HTTP and gRPC APIs, no shortcut into their databases or code.

``make demo-distributed`` runs ``main`` (tools/distributed_demo.sh starts Kafka and
PostgreSQL in a private run folder and stops them afterwards); the end-to-end tests
(tests/e2e/) drive the same steps with ``Assembly`` and assert on what comes back. Every
figure printed is read back from a service; when a step does not happen in time the run
stops with an error instead of printing anything else.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Container
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests

from demos.cluster import Cluster

REGION = "hovedstaden"
REGION_FILE = """\
# Written by the distributed demo / end-to-end tests: Digital Post into an outbox folder.
region = "{region}"
enabled_plugins = ["formats", "reports", "digital_post"]
channel_order = ["digital_post"]

[plugins.digital_post]
sender_cvr = "29190623"
sender_label = "Region Hovedstaden"
outbox = "{outbox}"
state_dir = "{state}"
document_format = "text"
"""
MUNICIPALITIES = (101, 147, 151, 153, 157, 159, 161, 163, 165, 167)
EDUCATION = ("short", "medium", "long")
QUESTIONS = [{"id": "education", "label": {"da": "Uddannelse", "en": "Education"},
              "options": [{"value": v, "label": {"da": v, "en": v}} for v in EDUCATION]}]
MAPPING = {"columns": {"person_key": "cpr", "name": "name", "address": "address",
                       "postcode": "postcode", "municipality_code": "municipality",
                       "birth_date": "birth_date", "sex": "sex"}}


T = TypeVar("T")


class StepFailed(RuntimeError):
    pass


def cluster_for(kafka_bootstrap: str, postgres_url: str, workdir: Path | None = None,
                **env: str) -> Cluster:
    """A cluster whose registry sends Digital Post (MeMo files) into ``workdir/outbox``."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="klero-cluster."))
    workdir.mkdir(parents=True, exist_ok=True)
    region_file = workdir / "region.toml"
    region_file.write_text(REGION_FILE.format(region=REGION,
                                              outbox=(workdir / "outbox").as_posix(),
                                              state=(workdir / "dp-state").as_posix()))
    return Cluster(kafka_bootstrap, postgres_url, workdir=workdir, region=REGION,
                   extra_env={"KLERO_REGION_CONFIG": str(region_file),
                              "KLERO_SORTITION_ROUNDING_SECONDS": "3",
                              "KLERO_LOG_LEVEL": "WARNING", **env})


def operator_token(cluster: Cluster, service: str, role: str, subject: str = "e2e") -> str:
    """An operator token in the service's own database (what ``kleroterion token`` does,
    without a process start per token)."""
    import importlib

    import sqlalchemy as sa

    from services.common.auth import TokenStore

    roles: frozenset[str] = importlib.import_module(f"services.{service}.app").ROLES
    engine = sa.create_engine(cluster.services[service].env[
        f"KLERO_{service.upper()}_DATABASE_URL"])
    try:
        return TokenStore(engine, roles).issue(subject, role)
    finally:
        engine.dispose()


class Api:
    """HTTP calls to one service with an operator token; an unexpected status raises."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60) -> None:
        self.base = base_url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def call(self, method: str, path: str, expect: Collection[int] = (200, 201, 202),
             **kw: Any) -> requests.Response:
        r = self.session.request(method, self.base + path, timeout=self.timeout, **kw)
        if r.status_code not in expect:
            raise StepFailed(f"{method} {path}: HTTP {r.status_code} {r.text[:500]}")
        return r

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: object = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kw) if body is not None \
            else self.call("POST", path, **kw)

    def put(self, path: str, body: object = None, **kw: Any) -> requests.Response:
        return self.call("PUT", path, json=body, **kw)


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60,
             interval: float = 0.3) -> T:
    """Poll ``check`` until it returns something truthy; raise naming ``what`` if not."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise StepFailed(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def population_csv(n: int, seed: int = 1) -> bytes:
    """``n`` synthetic adults with valid CPR-like keys (Digital Post reaches them)."""
    rnd = random.Random(seed)
    lines = ["cpr,name,address,postcode,municipality,birth_date,sex"]
    for k in range(n):
        year = 1940 + rnd.randrange(60)
        day, month = 1 + k % 28, 1 + (k // 28) % 12
        cpr = f"{day:02d}{month:02d}{year % 100:02d}{k % 10000:04d}"
        lines.append(f"{cpr},Demo Borger {k},Demovej {k},{2000 + k % 900},"
                     f"{MUNICIPALITIES[k % len(MUNICIPALITIES)]},{year}-{month:02d}-{day:02d},"
                     f"{'MK'[rnd.randrange(2)]}")
    return ("\n".join(lines) + "\n").encode()


def memo_codes(outbox: Path, invitation_ids: Container[str] | None = None) -> dict[str, str]:
    """invitation id -> sign-up code, read from the MeMo files the channel wrote."""
    out: dict[str, str] = {}
    for path in outbox.glob("*.xml"):
        if path.name.startswith("test-") or (invitation_ids is not None
                                              and path.stem not in invitation_ids):
            continue
        found = re.search(r"code=([A-Z0-9-]+)", path.read_text(encoding="utf-8"))
        if found:
            out[path.stem] = found.group(1)
    return out


def quotas_for(people: list[dict[str, Any]], features: tuple[str, ...],
               seats: int) -> list[dict[str, Any]]:
    """Proportional to the pool with a seat of slack either way."""
    out: list[dict[str, Any]] = []
    for f in features:
        counts = Counter(p[f] for p in people)
        for value, n in sorted(counts.items()):
            share = n / len(people) * seats
            out.append({"feature": f, "value": value, "min": max(0, math.floor(share) - 1),
                        "max": min(seats, math.ceil(share) + 1)})
    return out


@dataclass
class Assembly:
    """One assembly driven through a running cluster's APIs, step by step."""

    cluster: Cluster
    assembly_id: str = field(default_factory=lambda: f"a-{uuid.uuid4().hex[:8]}")
    seats: int = 12
    say: Callable[[str, str], None] = lambda step, text: None
    registry: Api = field(init=False)
    public: Api = field(init=False)
    sessions: Api = field(init=False)
    recommendations: Api = field(init=False)
    # MeMo files already in the shared outbox folder when this assembly sent its rollout
    _outbox_before: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        c = self.cluster
        self.registry = Api(c.services["registry"].url,
                            operator_token(c, "registry", "platform_operator"))
        self.public = Api(c.services["registry"].url)
        self.sessions = Api(c.services["sessions"].url,
                            operator_token(c, "sessions", "platform_operator"))
        self.recommendations = Api(c.services["recommendations"].url,
                                   operator_token(c, "recommendations", "facilitator"))

    @property
    def outbox(self) -> Path:
        return self.cluster.workdir / "outbox"

    # --- registry -------------------------------------------------------------------

    def create(self, population: int) -> dict[str, Any]:
        today = date.today()
        self.registry.post("/api/assemblies", {
            "id": self.assembly_id, "name": f"Borgerpanel {self.assembly_id}",
            "questions": QUESTIONS,
            "session_dates": [(today + timedelta(days=40 + 14 * k)).isoformat()
                              for k in range(3)]})
        self.announce()
        r: dict[str, Any] = self.registry.post(
            f"/api/assemblies/{self.assembly_id}/extracts",
            files={"file": ("extract.csv", population_csv(population))},
            data={"mapping": json.dumps(MAPPING)}).json()
        self.say("population", f"{r['rows']:,} synthetic adults imported into the registry "
                               f"(extract SHA-256 {r['sha256'][:16]}…)")
        return r

    def announce(self) -> None:
        """``assembly_created`` as the platform publishes it (sessions and recommendations
        learn of the assembly from it)."""
        from services.common import events
        from services.common.bus import KafkaBus, KafkaConfig
        from services.contracts.kleroterion.v1.platform_events_pb2 import AssemblyCreated

        bus = KafkaBus(KafkaConfig((self.cluster.kafka_bootstrap,), client_id="e2e-platform"),
                       prefix=self.cluster.topic_prefix, partitions=3)
        try:
            bus.publish(events.new_event(
                AssemblyCreated(name=f"Borgerpanel {self.assembly_id}", format="panel",
                                seats=self.seats, scope=REGION),
                assembly_id=self.assembly_id, region=REGION, producer="platform"), wait=True)
        finally:
            bus.close()

    def approved_template(self) -> str:
        tid: str = self.registry.post(f"/api/assemblies/{self.assembly_id}/templates", {"content": {
            "da": {"subject": "Invitation til {assembly}", "body": "Kære {name}, tilmeld dig "
                   "på {signup_url} med koden {code}."},
            "en": {"subject": "Invitation to {assembly}", "body": "Dear {name}, sign up at "
                   "{signup_url} with the code {code}."}}}).json()["id"]
        test = self.registry.post(f"/api/templates/{tid}/test-send", {
            "channel": "digital_post", "recipient": {"name": "Test Modtager",
                                                     "cpr": "0101709999",
                                                     "address": "Demovej 1",
                                                     "postcode": "3400"}}).json()
        self.registry.post(f"/api/templates/{tid}/approve")
        self.say("invitations", f"template test-sent via {test['channel']} ({test['status']}) "
                                f"and approved")
        return tid

    def rollout(self, size: int, seed: str = "5eed") -> dict[str, Any]:
        r: dict[str, Any] = self.registry.post(f"/api/assemblies/{self.assembly_id}/rollouts",
                               {"scope": "Region Hovedstaden", "size": size, "seed": seed}).json()
        self.say("invitations", f"lottery drew {r['invitations']:,} invitations (seed {seed})")
        return r

    def send(self, rollout_id: str, template_id: str) -> int:
        self._outbox_before = {p.stem for p in self.outbox.glob("*.xml")}
        requested: int = self.registry.post(f"/api/rollouts/{rollout_id}/send",
                                            {"template_id": template_id}).json()["requested"]
        return requested

    def deliveries(self, rollout_id: str) -> dict[str, int]:
        rows = self.registry.get(f"/api/rollouts/{rollout_id}/deliveries").json()["deliveries"]
        out: Counter[str] = Counter()
        for d in rows:
            out[d["state"]] += d["count"]
        return dict(out)

    def wait_sent(self, rollout_id: str, count: int, timeout: float = 90) -> dict[str, int]:
        def done() -> dict[str, int] | None:
            d = self.deliveries(rollout_id)
            return d if sum(d.values()) >= count and "sending" not in d else None
        return wait_for(f"{count} invitations delivered", done, timeout)

    def codes(self) -> dict[str, str]:
        """invitation id -> code for this assembly's invitations, from the MeMo files its
        send wrote (the folder is shared by every assembly of the region)."""
        return {k: v for k, v in memo_codes(self.outbox).items()
                if k not in self._outbox_before}

    def sign_up(self, code: str, education: str, lang: str = "da") -> requests.Response:
        return self.public.session.post(
            self.public.base + "/api/public/signup", timeout=30,
            json={"code": code, "available": True, "consent": True, "language": lang,
                  "answers": {"education": education}})

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.registry.get(
            f"/api/assemblies/{self.assembly_id}/statistics").json()
        return stats

    def registrants(self) -> list[dict[str, Any]]:
        registrants: list[dict[str, Any]] = self.registry.get(
            f"/api/assemblies/{self.assembly_id}/registrants").json()["registrants"]
        return registrants

    def export_pool(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        r = self.registry.post(f"/api/assemblies/{self.assembly_id}/pool-exports?format=json")
        return r.json()["people"], {"sha256": r.headers["X-Pool-SHA256"],
                                    "version": r.headers["X-Pool-Version"]}

    # --- sortition (gRPC) -----------------------------------------------------------

    def draw(self, people: list[dict[str, Any]], seed: str,
             substitutes: int = 0) -> dict[str, Any]:
        import grpc

        from services.contracts.kleroterion.v1 import sortition_pb2 as pb
        from services.contracts.kleroterion.v1 import sortition_pb2_grpc as pb_grpc

        features = ("sex", "age_band", "education")
        quotas = quotas_for(people, features, self.seats)
        pool = pb.Pool(seats=self.seats)
        for p in people:
            pool.people.add(id=p["id"], features={f: str(p[f]) for f in features})
        for q in quotas:
            pool.quotas.add(**q)
        with grpc.insecure_channel(self.cluster.services["sortition"].target) as channel:
            stub = pb_grpc.SortitionServiceStub(channel)
            report = stub.CheckFeasibility(pb.CheckFeasibilityRequest(pool=pool), timeout=60)
            self.say("quotas", f"feasibility: {report.summary}")
            if not report.feasible:
                raise StepFailed(f"quotas: infeasible ({report.summary})")
            result = None
            for update in stub.ComputeDistribution(pb.ComputeDistributionRequest(
                    assembly_id=self.assembly_id, pool=pool, algorithm="leximin"), timeout=120):
                if update.HasField("result"):
                    result = update.result
            if result is None:
                raise StepFailed("ComputeDistribution ended without a result")
            self.say("draw", f"leximin: lowest chance {result.stats.min_probability:.4f} "
                             f"(k/n {self.seats / len(people):.4f}), {result.support_size} "
                             f"panels in the support, lottery of {result.lottery_size} "
                             f"(SHA-256 {result.lottery_sha256[:16]}…)")
            # Frozen before the seed exists: only the published run is drawn, once.
            stub.PublishLottery(pb.PublishLotteryRequest(run_id=result.run_id,
                                                         published_by="demo organiser"),
                                timeout=30)
            drawn = stub.DrawPanel(pb.DrawPanelRequest(run_id=result.run_id, seed=seed,
                                                       entered_by="demo notary"), timeout=60)
            self.say("draw", f"seed {drawn.seed!r} drew panel {drawn.panel_index} of "
                             f"{drawn.lottery_size}: {len(drawn.panel_ids)} members")
            subs: list[str] = []
            if substitutes:
                subs = list(stub.DrawSubstitutes(pb.DrawSubstitutesRequest(
                    run_id=result.run_id, count=substitutes), timeout=60).substitute_ids)
        return {"run_id": result.run_id, "panel_ids": list(drawn.panel_ids),
                "substitute_ids": subs, "quotas": quotas,
                "lottery_sha256": result.lottery_sha256, "panel_index": drawn.panel_index}

    # --- after the draw: every service hears of it ----------------------------------

    def composition(self) -> dict[str, Any]:
        composition: dict[str, Any] = self.sessions.get(
            f"/api/assemblies/{self.assembly_id}/composition").json()
        return composition

    def seated_in_recommendations(self) -> list[dict[str, Any]]:
        r = self.recommendations.get(f"/assemblies/{self.assembly_id}/members",
                                     expect=(200, 404))
        members: list[dict[str, Any]] = r.json()["members"] if r.status_code == 200 else []
        return members

    def evaluation(self) -> dict[str, Any]:
        """The organisers' evaluation data, as the recommendations service has gathered it
        from the registry's, sortition's and sessions' aggregate events."""
        evaluation: dict[str, Any] = self.recommendations.get(
            f"/assemblies/{self.assembly_id}/evaluation").json()
        return evaluation

    def wait_panel_everywhere(self, panel_ids: list[str],
                              timeout: float = 60) -> dict[str, Any]:
        panel = set(panel_ids)

        def registry_done() -> set[str] | None:
            selected = {x["id"] for x in self.registrants() if x["state"] == "selected"}
            return selected if selected == panel else None

        def sessions_done() -> dict[str, dict[str, Any]] | None:
            r = self.sessions.get(f"/api/assemblies/{self.assembly_id}/composition",
                                  expect=(200, 404))
            if r.status_code != 200:
                return None
            members = {m["member_id"]: m for m in r.json()["members"]}
            return members if panel <= set(members) else None

        def recommendations_done() -> set[str] | None:
            seated = {m["member_id"] for m in self.seated_in_recommendations() if m["seated"]}
            return seated if seated == panel else None

        selected = wait_for("registry marks the panel selected", registry_done, timeout)
        seated = wait_for("sessions seats the panel", sessions_done, timeout)
        recs = wait_for("recommendations seats the panel", recommendations_done, timeout)
        return {"registry_selected": selected, "sessions_members": seated,
                "recommendations_seated": recs}


def run(cluster: Cluster, *, population: int = 600, invitations: int = 120, seats: int = 12,
        seed: str = "demo-seed",
        say: Callable[[str, str], None] = lambda s, t: None) -> dict[str, Any]:
    """The whole small assembly; returns what each service reported."""
    a = Assembly(cluster, seats=seats, say=say)
    a.create(population)
    tid = a.approved_template()
    rollout = a.rollout(invitations)
    requested = a.send(rollout["id"], tid)
    t = time.perf_counter()
    delivered = a.wait_sent(rollout["id"], requested)
    codes = a.codes()
    say("invitations", f"{requested} requested, delivered {delivered} in "
                       f"{time.perf_counter() - t:.1f} s; {len(codes)} MeMo files in {a.outbox}")
    rnd = random.Random(seed)
    accepted: list[str] = []
    for _, code in sorted(codes.items()):
        r = a.sign_up(code, rnd.choice(EDUCATION))
        if r.status_code != 201:
            raise StepFailed(f"sign-up: HTTP {r.status_code} {r.text[:300]}")
        accepted.append(r.json()["registrant_id"])
    stats = wait_for("statistics count every sign-up",
                     lambda: (s := a.statistics())["total"]["signed_up"] == len(accepted) and s)
    say("sign-up", f"{stats['total']['signed_up']} of {stats['total']['invited']} invited "
                   f"signed up through the public endpoint")
    people, export = a.export_pool()
    say("pool", f"{len(people)} volunteers exported (SHA-256 {export['sha256'][:16]}…)")
    drawn = a.draw(people, seed)
    everywhere = a.wait_panel_everywhere(drawn["panel_ids"])
    say("registry", f"{len(everywhere['registry_selected'])} registrants marked selected "
                    f"from panel_drawn")
    with_features = sum(1 for m in everywhere["sessions_members"].values() if m["features"])
    say("sessions", f"{len(everywhere['sessions_members'])} members seated, "
                    f"{with_features} with their features")
    say("recommendations", f"{len(everywhere['recommendations_seated'])} members seated")
    return {"assembly": a, "rollout": rollout, "requested": requested, "delivered": delivered,
            "accepted": accepted, "statistics": stats, "people": people, "export": export,
            "drawn": drawn, **everywhere}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kafka", default=os.environ.get("KLERO_KAFKA_BOOTSTRAP"))
    parser.add_argument("--postgres", default=os.environ.get("KLERO_POSTGRES_URL"))
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--invitations", type=int, default=120)
    parser.add_argument("--seed", default="demo-seed")
    args = parser.parse_args(argv)
    if not args.kafka or not args.postgres:
        parser.error("--kafka and --postgres (or KLERO_KAFKA_BOOTSTRAP / KLERO_POSTGRES_URL)")

    def say(step: str, text: str) -> None:
        print(f"[{step:>15}] {text}", flush=True)

    cluster = cluster_for(args.kafka, args.postgres, Path(args.workdir) if args.workdir else None)
    say("setup", f"starting registry, sortition, sessions, recommendations as separate "
                 f"processes (Kafka {args.kafka}, topics {cluster.topic_prefix}.*, logs in "
                 f"{cluster.workdir})")
    t = time.perf_counter()
    try:
        cluster.start()
        say("setup", f"ready in {time.perf_counter() - t:.1f} s: " + ", ".join(
            f"{n} pid {s.process.pid if s.process else '-'} port {s.port}"
            for n, s in cluster.services.items()))
        run(cluster, invitations=args.invitations, seed=args.seed, say=say)
        say("done", f"a panel drawn over gRPC reached every service through Kafka in "
                    f"{time.perf_counter() - t:.1f} s")
        return 0
    except Exception as exc:  # noqa: BLE001 - say what failed, with the services' logs
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        for name in cluster.services:
            print(f"--- {name} log (last lines) ---\n{cluster.log_tail(name, 15)}",
                  file=sys.stderr)
        return 1
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    sys.exit(main())
