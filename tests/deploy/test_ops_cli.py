"""``kleroterion ops`` against a stand-in Kubernetes API server (fake_kube.py, real HTTP,
the real ``kubernetes`` client) seeded with the chart's own rendered objects, and ``ops lag``
against the real Kafka broker."""
from __future__ import annotations

import json
import tomllib
import uuid

import pytest
from deploy_support import of_kind
from fake_kube import MERGE_PATCH, STRATEGIC_PATCH, FakeKube, kubeconfig

from kleroterion.cli import main
from kleroterion.ops import regionfile

NAMESPACE = "klero-hovedstaden"
RELEASE = "hovedstaden"


@pytest.fixture
def cluster(renderer, tmp_path):
    """The hovedstaden release as a cluster would hold it, behind a fake API server."""
    fake = FakeKube()
    docs = renderer.render("hovedstaden")
    for doc in of_kind(docs, "ConfigMap") + of_kind(docs, "Deployment"):
        if doc["kind"] == "Deployment":
            doc["spec"]["replicas"] = 2
            doc["status"] = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                             "readyReplicas": 2, "availableReplicas": 2}
        fake.add(doc, NAMESPACE)
    # Another release in the same namespace must not be touched.
    other = json.loads(json.dumps(of_kind(docs, "Deployment")[0]))
    other["metadata"]["name"] = "other-registry"
    other["metadata"]["labels"]["app.kubernetes.io/instance"] = "other"
    fake.add(other, NAMESPACE)
    url, stop = fake.serve()
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig(url, NAMESPACE))
    fake.kubeconfig = str(config)
    yield fake
    stop()


def ops(cluster, *args):
    return main(["ops", *args, "--release", RELEASE, "--kubeconfig", cluster.kubeconfig])


def region_toml(cluster) -> dict:
    [cm] = [o for (k, _, _), o in cluster.objects.items() if k == "ConfigMap"]
    return tomllib.loads(cm["data"]["region.toml"])


def restarted(cluster) -> dict[str, str | None]:
    return {name: o["spec"]["template"]["metadata"].get("annotations", {}).get(
                "kubectl.kubernetes.io/restartedAt")
            for (k, _, name), o in cluster.objects.items() if k == "Deployment"}


def test_plugins_list_reads_the_live_configmap(cluster, capsys):
    assert ops(cluster, "plugins", "list", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"region": "hovedstaden",
                   "enabled_plugins": ["formats", "digital_post", "letter", "email"],
                   "channel_order": ["digital_post", "email", "letter"]}
    [listing] = [r for r in cluster.requests if r["method"] == "GET"]
    assert listing["query"]["labelSelector"] == [
        "app.kubernetes.io/instance=hovedstaden,app.kubernetes.io/component=region-config"]


def test_enable_patches_region_toml_and_rolls_the_release(cluster, capsys):
    before = region_toml(cluster)
    assert ops(cluster, "plugins", "enable", "sms") == 0
    assert "sms enabled in release hovedstaden" in capsys.readouterr().out
    after = region_toml(cluster)
    assert after["enabled_plugins"] == before["enabled_plugins"] + ["sms"]
    assert after["plugins"] == before["plugins"]  # settings survive the rewrite
    patches = [r for r in cluster.requests if r["method"] == "PATCH"]
    assert patches[0]["path"].endswith("/configmaps/hovedstaden-kleroterion-region")
    assert patches[0]["content_type"] == MERGE_PATCH
    deployment_patches = patches[1:]
    assert len(deployment_patches) == 4
    assert {p["content_type"] for p in deployment_patches} == {STRATEGIC_PATCH}
    stamps = restarted(cluster)
    assert stamps.pop("other-registry") is None
    assert len(stamps) == 4 and all(stamps.values())
    for name in stamps:
        assert cluster.get("Deployment", NAMESPACE, name)["metadata"]["generation"] == 2


def test_disable_removes_from_channel_order_and_is_idempotent(cluster, capsys):
    assert ops(cluster, "plugins", "disable", "email") == 0
    data = region_toml(cluster)
    assert "email" not in data["enabled_plugins"]
    assert data["channel_order"] == ["digital_post", "letter"]
    assert ops(cluster, "plugins", "disable", "email") == 0
    assert "already disabled" in capsys.readouterr().out
    assert len([r for r in cluster.requests if r["method"] == "PATCH"]) == 5


def test_no_restart_only_patches_the_configmap(cluster):
    assert ops(cluster, "plugins", "enable", "sms", "--no-restart") == 0
    assert not any(restarted(cluster).values())


def test_status_reports_replicas_per_deployment(cluster, capsys):
    assert ops(cluster, "status", "--json", "--check") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["service"] for r in rows] == ["recommendations", "registry", "sessions", "sortition"]
    assert all(r["rolled_out"] and r["desired"] == r["ready"] == 2 for r in rows)
    # After a restart nothing has rolled yet: generation moved past observedGeneration.
    ops(cluster, "plugins", "enable", "sms")
    capsys.readouterr()
    assert ops(cluster, "status", "--check") == 1
    assert "rolling" in capsys.readouterr().out


def test_unknown_release_is_a_message_not_a_traceback(cluster, capsys):
    code = main(["ops", "plugins", "list", "--release", "nowhere",
                 "--kubeconfig", cluster.kubeconfig])
    assert code == 2
    assert "no region ConfigMap for release 'nowhere'" in capsys.readouterr().err


def test_region_file_round_trip_keeps_everything():
    text = ('region = "x"\nenabled_plugins = ["a", "b"]\nchannel_order = ["b"]\n\n'
            '[plugins.b]\nport = 587\nratio = 0.5\non = true\nname = "æøå \\"q\\""\n'
            'langs = ["da", "de"]\n')
    enabled, changed = regionfile.enable(text, "c")
    assert changed
    data = tomllib.loads(enabled)
    assert data["enabled_plugins"] == ["a", "b", "c"]
    assert data["plugins"] == tomllib.loads(text)["plugins"]
    disabled, _ = regionfile.disable(enabled, "b")
    assert tomllib.loads(disabled)["channel_order"] == []


@pytest.mark.kafka
def test_lag_is_end_minus_committed(kafka_bootstrap, capsys):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.structs import OffsetAndMetadata

    topic = f"kleroterion.test.ops-lag-{uuid.uuid4().hex[:8]}"
    group = f"ops-lag-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for i in range(5):
        producer.send(topic, value=f"m{i}".encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(2, "", -1)})
    finally:
        consumer.close()

    assert main(["ops", "lag", "--bootstrap", kafka_bootstrap, "--group", group, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"group": group, "topic": topic, "partition": 0, "committed": 2, "end": 5,
                     "lag": 3}]


@pytest.mark.kafka
def test_create_topics_creates_the_release_topics_once(kafka_bootstrap, capsys):
    from kafka.admin import KafkaAdminClient

    from kleroterion.ops.topics import all_topics

    prefix = f"kleroterion.test{uuid.uuid4().hex[:8]}"
    args = ["ops", "create-topics", "--bootstrap", kafka_bootstrap, "--prefix", prefix,
            "--partitions", "2", "--config", "retention.ms=3600000"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("created ") for line in out.splitlines()) == \
        len(all_topics(prefix))
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert set(all_topics(prefix)) <= set(admin.list_topics())
        [described] = admin.describe_topics([f"{prefix}.sortition.panel_drawn"])
        assert len(described["partitions"]) == 2
    finally:
        admin.close()
    assert main(args) == 0  # a second run (the next upgrade's hook) changes nothing
    assert not any(line.startswith("created ")
                   for line in capsys.readouterr().out.splitlines())
