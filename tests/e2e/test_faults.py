"""Faults on the running cluster: a registry killed in the middle of a send, every service
restarted, and the broker away for 30 seconds during sign-ups."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from demos import distributed as dd

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _memo_files(outbox: Path) -> dict[str, tuple[int, int]]:
    """MeMo file -> (inode, mtime): the channel writes atomically (a new inode), so a file
    written again after the kill shows up as a changed pair."""
    out = {}
    for path in outbox.glob("*.xml"):
        if not path.name.startswith("test-"):
            st = path.stat()
            out[path.stem] = (st.st_ino, st.st_mtime_ns)
    return out


def test_registry_killed_mid_send_sends_every_invitation_exactly_once(cluster):
    a = dd.Assembly(cluster)
    a.create(10_000)
    tid = a.approved_template()
    rollout = a.rollout(10_000)
    before = set(_memo_files(a.outbox))
    assert a.send(rollout["id"], tid) == 10_000
    dd.wait_for("the channel worker under way",
                lambda: len(os.listdir(a.outbox)) - len(before) >= 1500, timeout=90,
                interval=0.05)
    cluster.kill("registry")  # SIGKILL: nothing flushed, nothing committed
    at_kill = {k: v for k, v in _memo_files(a.outbox).items() if k not in before}
    assert 0 < len(at_kill) < 10_000, "the kill must land in the middle of the send"
    cluster.start_again("registry")
    delivered = a.wait_sent(rollout["id"], 10_000, timeout=120)
    after = {k: v for k, v in _memo_files(a.outbox).items() if k not in before}
    assert len(after) == 10_000  # none lost
    assert delivered == {"sent": 10_000}  # each confirmed, none left to a manual check
    rewritten = [k for k, v in at_kill.items() if after[k] != v]
    assert rewritten == []  # nothing sent before the kill was sent again


def test_each_service_restarted_keeps_its_state(cluster, drawn):
    import grpc

    from services.contracts.kleroterion.v1 import sortition_pb2 as pb
    from services.contracts.kleroterion.v1 import sortition_pb2_grpc as pb_grpc

    a = drawn["assembly"]
    run_id, panel = drawn["drawn"]["run_id"], drawn["drawn"]["panel_ids"]

    def draw(seed):
        with grpc.insecure_channel(cluster.services["sortition"].target) as channel:
            return pb_grpc.SortitionServiceStub(channel).DrawPanel(
                pb.DrawPanelRequest(entered_by="Notary", run_id=run_id, seed=seed), timeout=30)

    def state():
        return {"registrants": sorted((x["id"], x["state"]) for x in a.registrants()),
                "statistics": a.statistics(),
                "composition": a.composition(),
                "recommendations": a.seated_in_recommendations(),
                "draw": list(draw("e2e-seed").panel_ids)}

    expected = state()
    assert expected["draw"] == panel
    for name in ("registry", "sortition", "sessions", "recommendations"):
        assert cluster.stop(name) == 0, cluster.log_tail(name)  # SIGTERM: a clean exit
        cluster.start_again(name)
        assert state() == expected, f"{name} lost state over a restart"
    with pytest.raises(grpc.RpcError) as refused:  # the draw is still on record
        draw("another-seed")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _broker(command: str, run_dir: str) -> str:
    done = subprocess.run(["bash", str(REPO / "tools/kafka/broker.sh"), command],
                          env={**os.environ, "KLERO_RUN_DIR": run_dir}, check=True,
                          stdout=subprocess.PIPE, text=True, timeout=180)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def test_sign_ups_during_a_broker_outage_are_kept_and_published_later(cluster, kafka_bootstrap):
    run_dir = os.environ.get("KLERO_RUN_DIR", "")
    status = subprocess.run(["bash", str(REPO / "tools/kafka/broker.sh"), "status"],
                            env={**os.environ, "KLERO_RUN_DIR": run_dir or "/nonexistent"},
                            stdout=subprocess.PIPE, text=True)
    if not run_dir or f"bootstrap={kafka_bootstrap}" not in status.stdout:
        message = ("the test's broker is not the one in KLERO_RUN_DIR (tools/test.sh sets "
                   "it): refusing to stop a broker this test did not get")
        if os.environ.get("KLERO_REQUIRE_REAL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    a = dd.Assembly(cluster)
    a.create(300)
    tid = a.approved_template()
    rollout = a.rollout(90, seed="0b7a6e")
    a.send(rollout["id"], tid)
    a.wait_sent(rollout["id"], 90)
    codes = list(a.codes().items())
    accepted, refused = [], 0

    def sign_up(batch):
        nonlocal refused
        for _, code in batch:
            r = a.sign_up(code, "medium")
            if r.status_code == 201:
                accepted.append(r.json()["registrant_id"])
            elif r.status_code == 503:  # a retryable refusal is allowed, a loss is not
                assert r.headers.get("Retry-After")
                refused += 1
            else:
                raise AssertionError(f"sign-up: HTTP {r.status_code} {r.text}")

    sign_up(codes[:45])
    before_outage = len(accepted)
    assert before_outage > 0
    _broker("stop-keep-data", run_dir)
    stopped = time.monotonic()
    try:
        sign_up(codes[45:])
        during = len(accepted) - before_outage
        time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    finally:
        assert _broker("restart-same", run_dir) == kafka_bootstrap
    assert during > 0, "sign-ups during the outage were accepted"
    stats = a.statistics()
    assert stats["total"]["signed_up"] == len(accepted)

    from services.common import events
    from services.common.bus import KafkaBus, KafkaConfig

    reader = KafkaBus(KafkaConfig((kafka_bootstrap,), client_id="e2e-reader"),
                      prefix=cluster.topic_prefix)
    topic = events.topic_for("signup_received", cluster.topic_prefix)

    def published():
        ids = {events.decode(r.value).signup_received.registrant_id
               for r in reader.read_topic(topic, timeout=10)}
        return ids if set(accepted) <= ids else None

    try:
        dd.wait_for("every accepted sign-up's signup_received on the topic", published,
                    timeout=90, interval=2)
    finally:
        reader.close()
