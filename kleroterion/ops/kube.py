"""A region's release on Kubernetes: its region.toml ConfigMap and its Deployments.

Objects are found by the chart's labels (``app.kubernetes.io/instance=<release>``), so the
commands work whatever fullname the release was given.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from kleroterion.ops import regionfile

INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
REGION_CONFIG_COMPONENT = "region-config"
REGION_KEY = "region.toml"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


# The parts of the kubernetes client a release uses. The objects it answers with stay Any:
# their models make every field optional, where the API server always fills the ones we read.
class CoreApi(Protocol):
    def list_namespaced_config_map(self, namespace: str, *, label_selector: str) -> Any: ...

    def patch_namespaced_config_map(self, name: str, namespace: str, body: Any, *,
                                    _content_type: str) -> Any: ...


class AppsApi(Protocol):
    def list_namespaced_deployment(self, namespace: str, *, label_selector: str) -> Any: ...

    def patch_namespaced_deployment(self, name: str, namespace: str, body: Any) -> Any: ...


class KubeConfig(Protocol):
    """``kubernetes.config``, whose functions the client leaves unannotated."""

    @property
    def ConfigException(self) -> type[Exception]: ...

    def load_kube_config(self, config_file: str | None = None,
                         context: str | None = None) -> None: ...

    def load_incluster_config(self) -> None: ...

    def list_kube_config_contexts(
            self, config_file: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]: ...


def _kube_config() -> KubeConfig:
    from kubernetes import config

    return config


class OpsError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def load_clients(kubeconfig: str | None = None,
                 context: str | None = None) -> tuple[CoreApi, AppsApi]:
    """(CoreV1Api, AppsV1Api) from a kubeconfig, or from the pod's service account when
    there is none and we run in a cluster."""
    from kubernetes import client

    config = _kube_config()

    try:
        config.load_kube_config(config_file=kubeconfig, context=context)
    except config.ConfigException:
        if kubeconfig:
            raise
        config.load_incluster_config()
    return client.CoreV1Api(), client.AppsV1Api()


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    config = _kube_config()
    try:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)
        if context:
            contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
            active = next((c for c in contexts if c["name"] == context), active)
        namespace: str = (active or {}).get("context", {}).get("namespace") or "default"
        return namespace
    except (config.ConfigException, OSError):
        return "default"


@dataclass(frozen=True)
class DeploymentStatus:
    name: str
    component: str
    desired: int
    updated: int
    ready: int
    available: int
    observed: bool

    @property
    def rolled_out(self) -> bool:
        return (self.observed and self.updated == self.desired
                and self.available == self.desired and self.ready == self.desired)


class Release:
    """One region's release: namespace + Helm release name."""

    def __init__(self, core: CoreApi, apps: AppsApi, namespace: str, release: str) -> None:
        self.core = core
        self.apps = apps
        self.namespace = namespace
        self.release = release

    # --- region.toml ---------------------------------------------------------------------

    def region_configmap(self) -> Any:
        selector = f"{INSTANCE_LABEL}={self.release},{COMPONENT_LABEL}={REGION_CONFIG_COMPONENT}"
        items = self.core.list_namespaced_config_map(self.namespace, label_selector=selector).items
        if not items:
            raise OpsError("release", f"no region ConfigMap for release {self.release!r} in "
                                      f"namespace {self.namespace!r} (label {selector})")
        if len(items) > 1:
            names = ", ".join(sorted(i.metadata.name for i in items))
            raise OpsError("release", f"several region ConfigMaps match: {names}")
        cm = items[0]
        if not cm.data or REGION_KEY not in cm.data:
            raise OpsError("configmap", f"{cm.metadata.name} has no {REGION_KEY} key")
        return cm

    def region_file(self) -> dict[str, Any]:
        return regionfile.parse(self.region_configmap().data[REGION_KEY])

    def enabled_plugins(self) -> list[str]:
        return list(self.region_file().get("enabled_plugins", []))

    def set_plugin(self, plugin: str, enabled: bool, *, restart: bool = True) -> bool:
        """Enable or disable ``plugin`` in the live region.toml; roll the Deployments so the
        pods read it (a plugin host is built once at start-up). Returns whether it changed."""
        cm = self.region_configmap()
        change = regionfile.enable if enabled else regionfile.disable
        text, changed = change(cm.data[REGION_KEY], plugin)
        if not changed:
            return False
        # resourceVersion makes the patch fail rather than overwrite a concurrent edit.
        body = {"metadata": {"resourceVersion": cm.metadata.resource_version},
                "data": {REGION_KEY: text}}
        self.core.patch_namespaced_config_map(cm.metadata.name, self.namespace, body,
                                              _content_type="application/merge-patch+json")
        if restart:
            self.restart()
        return True

    # --- Deployments ---------------------------------------------------------------------

    def deployments(self) -> list[Any]:
        items = self.apps.list_namespaced_deployment(
            self.namespace, label_selector=f"{INSTANCE_LABEL}={self.release}").items
        if not items:
            raise OpsError("release", f"no Deployments for release {self.release!r} in "
                                      f"namespace {self.namespace!r}")
        return sorted(items, key=lambda d: d.metadata.name)

    def restart(self, now: datetime | None = None) -> list[str]:
        """A rolling restart, the way ``kubectl rollout restart`` does it."""
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        names: list[str] = []
        for dep in self.deployments():
            self.apps.patch_namespaced_deployment(dep.metadata.name, self.namespace, body)
            names.append(dep.metadata.name)
        return names

    def status(self) -> list[DeploymentStatus]:
        rows: list[DeploymentStatus] = []
        for dep in self.deployments():
            st = dep.status
            labels = dep.metadata.labels or {}
            desired = dep.spec.replicas if dep.spec.replicas is not None else 1
            observed = (st is not None and st.observed_generation is not None
                        and dep.metadata.generation is not None
                        and st.observed_generation >= dep.metadata.generation)
            rows.append(DeploymentStatus(
                name=dep.metadata.name, component=labels.get(COMPONENT_LABEL, ""),
                desired=desired, updated=(st and st.updated_replicas) or 0,
                ready=(st and st.ready_replicas) or 0,
                available=(st and st.available_replicas) or 0, observed=observed))
        return rows
