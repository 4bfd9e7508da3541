"""The Helm chart: lint, render every region, validate every object against the Kubernetes
API schemas, and check what the platform promises about the rendered objects."""
from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_support import CHART, KUBE_VERSION, REGIONS, of_kind, run_helm, values_file

from kleroterion.ops.topics import all_topics
from services.common import events
from services.common.plugins import PluginHost, RegionConfig

SERVICES = ("registry", "sortition", "sessions", "recommendations")
# kubernetes-validate bundles only the built-in API; these CRD kinds are validated below
# against tests/deploy/kafkatopic.schema.json instead.
CRD_KINDS = {("kafka.strimzi.io/v1beta2", "KafkaTopic")}
KAFKATOPIC_SCHEMA = json.loads((Path(__file__).parent / "kafkatopic.schema.json").read_text())
SECRET_ENV = ("KLERO_KAFKA_SASL_USERNAME", "KLERO_KAFKA_SASL_PASSWORD",
              "KLERO_REGISTRY_ENCRYPTION_KEY",
              *(f"KLERO_{s.upper()}_DATABASE_URL" for s in SERVICES))


def region_values(region: str) -> dict:
    return yaml.safe_load(values_file(region).read_text())


def merged_partitions(region: str) -> int:
    base = yaml.safe_load((CHART / "values.yaml").read_text())["kafka"]["partitions"]
    return region_values(region).get("kafka", {}).get("partitions", base)


def deployments(docs) -> dict[str, dict]:
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: d
            for d in of_kind(docs, "Deployment")}


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --- lint and schema validation ---------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_lint_strict(helm, region):
    result = run_helm(helm, "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION,
                      "-f", str(values_file(region)))
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("strimzi", [False, True], ids=["job", "strimzi"])
@pytest.mark.parametrize("region", REGIONS)
def test_every_rendered_object_is_valid_kubernetes(renderer, region, strimzi):
    docs = renderer.render(region, strimzi)
    checked = set()
    for doc in docs:
        kind = (doc["apiVersion"], doc["kind"])
        if kind in CRD_KINDS:
            jsonschema.validate(doc, KAFKATOPIC_SCHEMA)
        else:
            try:
                kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message} at "
                            f"{'.'.join(map(str, exc.path))}")
        checked.add(doc["kind"])
    expected = {"ConfigMap", "ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler",
                "PodDisruptionBudget", "KafkaTopic" if strimzi else "Job"}
    assert checked == expected


def test_strict_validation_catches_a_bad_object():
    # The check above is only worth something if a wrong object fails it.
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"replicas": "two", "selector": {}, "template": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBE_VERSION, strict=True)
    topic = {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
             "metadata": {"name": "a_b", "labels": {"strimzi.io/cluster": "k"}},
             "spec": {"partitions": 0}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(topic, KAFKATOPIC_SCHEMA)


BAD_VALUES = [
    ("no region", {}, "missing property 'region'"),
    ("empty bootstrap", {"region": "x", "kafka": {"bootstrapServers": []}},
     "/kafka/bootstrapServers"),
    ("zero replicas", {"region": "x", "services": {"sessions": {"replicas": 0}}},
     "/services/sessions/replicas"),
    ("no resources", {"region": "x", "services": {"registry": {"resources": None}}},
     "missing property 'resources'"),
    ("bad plugin name", {"region": "x", "plugins": {"enabled": ["formats", "Digital-Post"]}},
     "/plugins/enabled/1"),
    ("inline encryption key", {"region": "x", "encryptionKey": "s3cret"}, "/encryptionKey"),
    ("inline kafka password", {"region": "x", "kafka": {"sasl": {"password": "hunter2"}}},
     "/kafka/sasl/password"),
    ("secret ref without key", {"region": "x", "services": {"sortition": {
        "database": {"name": "db", "key": None}}}}, "/services/sortition/database"),
    ("bad region", {"region": "Hovedstaden!"}, "/region"),
]


@pytest.mark.parametrize("values,needle", [(v, n) for _, v, n in BAD_VALUES],
                         ids=[i for i, _, _ in BAD_VALUES])
def test_schema_rejects_bad_values_naming_the_field(helm, tmp_path, values, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(values))
    result = run_helm(helm, "template", "bad", str(CHART), "--kube-version", KUBE_VERSION,
                      "-f", str(bad), check=False)
    assert result.returncode != 0
    assert "don't meet the specifications of the schema" in result.stderr
    assert needle in result.stderr, result.stderr


def test_hpa_above_the_partition_count_is_refused(helm):
    result = run_helm(helm, "template", "rudersdal", str(CHART), "--kube-version", KUBE_VERSION,
                      "-f", str(values_file("rudersdal")),
                      "--set", "services.sessions.autoscaling.maxReplicas=4", check=False)
    assert result.returncode != 0
    assert ("services.sessions.autoscaling.maxReplicas (4) must not exceed "
            "kafka.partitions (3)") in result.stderr


def test_channel_order_must_name_enabled_plugins(helm):
    result = run_helm(helm, "template", "h", str(CHART), "--kube-version", KUBE_VERSION,
                      "-f", str(values_file("hovedstaden")),
                      "--set", "plugins.channelOrder={digital_post,sms}", check=False)
    assert result.returncode != 0
    assert 'plugins.channelOrder: "sms" is not in plugins.enabled' in result.stderr


# --- what reaches the pods ----------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_region_plugins_reach_the_pods_through_the_configmap(renderer, region, tmp_path,
                                                            monkeypatch):
    docs = renderer.render(region)
    [cm] = of_kind(docs, "ConfigMap")
    text = cm["data"]["region.toml"]
    path = tmp_path / "region.toml"
    path.write_text(text)
    # The services' own loader reads what the chart renders.
    config = RegionConfig.load(path)
    wanted = region_values(region)["plugins"]
    assert config.region == region
    assert config.plugins == tuple(wanted["enabled"])
    assert config.channel_order == tuple(wanted.get("channelOrder", ()))
    assert {k: dict(v) for k, v in config.plugin_settings.items()} == wanted.get("settings", {})
    # The installed plugins accept the region's settings: a pod would not start otherwise.
    monkeypatch.setenv("KLERO_SMS_API_TOKEN", "t")
    monkeypatch.setenv("KLERO_SMTP_PASSWORD", "p")
    host = PluginHost(region=config)
    assert set(host.channels()) == set(config.channel_order)
    assert {"panel", "assembly", "national"} <= set(host.formats())

    deps = deployments(docs)
    assert set(deps) == set(SERVICES)
    for svc, dep in deps.items():
        pod = dep["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = env_of(container)
        assert env["KLERO_REGION_CONFIG"]["value"] == "/etc/kleroterion/region.toml"
        assert env["KLERO_REGION"]["value"] == region
        assert env["KLERO_BUS"]["value"] == "kafka"
        assert env["KLERO_LOG_FORMAT"]["value"] == "json"
        assert env["KLERO_DATA_DIR"]["value"] == "/var/lib/kleroterion"
        assert env["KLERO_KAFKA_BOOTSTRAP"]["value"]
        assert env["KLERO_TOPIC_PREFIX"]["value"] == f"kleroterion.{region}"
        assert env["KLERO_TOPIC_PARTITIONS"]["value"] == str(merged_partitions(region))
        assert container["args"] == ["serve", svc]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes[mounts["/etc/kleroterion"]]["configMap"]["name"] == cm["metadata"]["name"]
        assert "emptyDir" in volumes[mounts["/var/lib/kleroterion"]]
        # A changed region.toml changes the pod template, so `helm upgrade` rolls the pods.
        assert dep["spec"]["template"]["metadata"]["annotations"]["checksum/region-config"]


def test_regions_enable_different_plugins(renderer):
    enabled = {}
    for region in REGIONS:
        [cm] = of_kind(renderer.render(region), "ConfigMap")
        enabled[region] = set(tomllib.loads(cm["data"]["region.toml"])["enabled_plugins"])
    assert {"digital_post", "letter", "email"} <= enabled["hovedstaden"]
    assert "sms" not in enabled["hovedstaden"]
    assert {"digital_post", "letter", "sms"} <= enabled["rudersdal"]
    assert "email" not in enabled["rudersdal"]
    assert len({frozenset(v) for v in enabled.values()}) == len(REGIONS)


@pytest.mark.parametrize("region", REGIONS)
def test_secrets_are_referenced_never_inlined(renderer, region):
    docs = renderer.render(region)
    assert not of_kind(docs, "Secret")
    pods = [(d["metadata"]["labels"]["app.kubernetes.io/component"], d["spec"]["template"]["spec"])
            for d in of_kind(docs, "Deployment") + of_kind(docs, "Job")]
    assert len(pods) == 5
    for component, pod in pods:
        for container in pod["containers"]:
            env = env_of(container)
            for name in SECRET_ENV:
                if name in env:
                    assert "value" not in env[name], f"{component}: {name} is inlined"
                    ref = env[name]["valueFrom"]["secretKeyRef"]
                    assert ref["name"] and ref["key"]
            assert "valueFrom" in env["KLERO_KAFKA_SASL_PASSWORD"]
            assert "valueFrom" in env["KLERO_KAFKA_SASL_USERNAME"]
            ca = env["KLERO_KAFKA_SSL_CAFILE"]["value"]
            mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
            assert ca.startswith(mounts["kafka-ca"] + "/")
            volumes = {v["name"]: v for v in pod["volumes"]}
            assert volumes["kafka-ca"]["secret"]["secretName"]
        if component in SERVICES:
            env = env_of(pod["containers"][0])
            db = env[f"KLERO_{component.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert db["key"] == f"{component}-url"
            assert ("KLERO_REGISTRY_ENCRYPTION_KEY" in env) == (component == "registry")


@pytest.mark.parametrize("region", REGIONS)
def test_every_container_has_probes_limits_and_a_locked_down_security_context(renderer, region):
    docs = renderer.render(region)
    for dep in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        svc = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc["seccompProfile"]["type"] == "RuntimeDefault"
            assert set(c["resources"]["limits"]) >= {"cpu", "memory"}
            assert set(c["resources"]["requests"]) >= {"cpu", "memory"}
            if dep["kind"] == "Job":
                continue
            live, ready = c["livenessProbe"], c["readinessProbe"]
            if svc == "sortition":
                assert live["grpc"]["port"] == 50051 and ready["grpc"]["port"] == 50051
                ports = {p["name"]: p["containerPort"] for p in c["ports"]}
                assert ports == {"grpc": 50051, "metrics": 9090}
            else:
                assert live["httpGet"] == {"path": "/healthz", "port": "http"}
                assert ready["httpGet"] == {"path": "/readyz", "port": "http"}
                assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080}


@pytest.mark.parametrize("region", REGIONS)
def test_each_service_has_service_pdb_and_hpa_within_partitions(renderer, region):
    docs = renderer.render(region)
    partitions = merged_partitions(region)
    for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        components = {d["metadata"]["labels"]["app.kubernetes.io/component"]
                      for d in of_kind(docs, kind)}
        assert components == set(SERVICES), kind
    deps = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        spec = hpa["spec"]
        assert spec["scaleTargetRef"]["name"] in deps
        assert 1 <= spec["minReplicas"] <= spec["maxReplicas"] <= partitions
        # The HPA owns the replica count; a fixed one would fight it on every upgrade.
        assert "replicas" not in deps[spec["scaleTargetRef"]["name"]]["spec"]
    for pdb in of_kind(docs, "PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        matching = [d for d in deps.values()
                    if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matching) == 1


# --- topics -------------------------------------------------------------------------------


def test_chart_event_list_matches_the_protobuf():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    by_owner = defaultdict(list)
    for event_type, owner in events.EVENT_TYPES.items():
        by_owner[owner].append(event_type)
    chart = {(owner, t) for owner, types in values["topics"]["events"].items() for t in types}
    proto = {(owner, t) for owner, types in by_owner.items() for t in types}
    assert chart == proto, (
        f"deploy/helm/kleroterion/values.yaml topics.events is out of date: missing "
        f"{sorted(proto - chart)}, unknown {sorted(chart - proto)}; `kleroterion ops topics "
        f"--values` prints the block to paste")


@pytest.mark.parametrize("region", REGIONS)
def test_strimzi_topics_when_the_api_is_served(renderer, region):
    docs = renderer.render(region, strimzi=True)
    assert not of_kind(docs, "Job")
    topics = of_kind(docs, "KafkaTopic")
    prefix = f"kleroterion.{region}"
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(all_topics(prefix))
    assert len(topics) == len(events.EVENT_TYPES) + 4
    assert f"{prefix}.sortition.panel_drawn" in {t["spec"]["topicName"] for t in topics}
    assert f"{prefix}.dead-letter.registry" in {t["spec"]["topicName"] for t in topics}
    for t in topics:
        assert t["spec"]["partitions"] == merged_partitions(region)
        assert t["metadata"]["labels"]["strimzi.io/cluster"]
        assert t["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize("region", REGIONS)
def test_hook_job_creates_topics_without_strimzi(renderer, region):
    docs = renderer.render(region, strimzi=False)
    assert not of_kind(docs, "KafkaTopic")
    [job] = of_kind(docs, "Job")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert set(hooks) == {"pre-install", "pre-upgrade"}
    [container] = job["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:2] == ["ops", "create-topics"]
    assert args[args.index("--partitions") + 1] == str(merged_partitions(region))
    assert set(all_topics(f"kleroterion.{region}")) <= set(args)
    # The Job's arguments parse with the real CLI.
    from kleroterion.cli import build_parser
    parsed = build_parser().parse_args(args)
    assert parsed.partitions == merged_partitions(region)
    assert sorted(parsed.topics) == sorted(all_topics(f"kleroterion.{region}"))
    assert dict(c.split("=", 1) for c in parsed.config)["retention.ms"] == "2592000000"


def test_topics_mode_none_renders_neither(renderer):
    docs = renderer.render("hovedstaden", strimzi=True, extra=("--set", "topics.mode=none"))
    assert not of_kind(docs, "KafkaTopic") and not of_kind(docs, "Job")


# --- the image recipe ---------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_with_the_cli_as_entrypoint():
    # No Docker engine here: the recipe is checked as text, not built (deploy/README.md).
    text = (Path(CHART).parents[1] / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) == 2 and froms[0].endswith(" AS build")
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in lines
    assert any("pip wheel" in line for line in lines)
    user = [line for line in lines if line.startswith("USER ")]
    assert user and not user[-1].split()[1].startswith(("root", "0"))
    assert lines[lines.index(user[-1]):].count('ENTRYPOINT ["kleroterion"]') == 1
