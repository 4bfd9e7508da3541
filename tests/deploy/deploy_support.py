"""Helpers for the deployment tests: a pinned helm and cached renders of the chart.

The fixtures are re-exported by tests/deploy/conftest.py."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "kleroterion"
REGIONS = ("national", "hovedstaden", "syddanmark", "rudersdal")
STRIMZI_API = "kafka.strimzi.io/v1beta2/KafkaTopic"
KUBE_VERSION = "1.33.0"


@pytest.fixture(scope="session")
def helm() -> str:
    """KLERO_HELM (tools/test.sh exports it), else tools/helm/install.sh, which builds the
    pinned helm once with `go install` and prints its path."""
    found = os.environ.get("KLERO_HELM", "").strip()
    if found:
        return found
    result = subprocess.run(["bash", str(REPO / "tools" / "helm" / "install.sh")],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"tools/helm/install.sh failed:\n{result.stderr[-2000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def run_helm(helm: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([helm, *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HELM_CACHE_HOME": "/tmp/klero-helm/cache",
                                 "HELM_CONFIG_HOME": "/tmp/klero-helm/config",
                                 "HELM_DATA_HOME": "/tmp/klero-helm/data"})
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{result.stderr}", pytrace=False)
    return result


def values_file(region: str) -> Path:
    return CHART / f"values-{region}.yaml"


class Renderer:
    def __init__(self, helm: str):
        self.helm = helm
        self._cache: dict[tuple, list[dict]] = {}

    def template_args(self, region: str, strimzi: bool, extra: tuple[str, ...] = ()) -> list[str]:
        args = ["template", region, str(CHART), "--namespace", f"klero-{region}",
                "--kube-version", KUBE_VERSION, "-f", str(values_file(region)), *extra]
        if strimzi:
            args += ["--api-versions", STRIMZI_API]
        return args

    def render(self, region: str, strimzi: bool = False, extra: tuple[str, ...] = ()) -> list[dict]:
        key = (region, strimzi, extra)
        if key not in self._cache:
            out = run_helm(self.helm, *self.template_args(region, strimzi, extra)).stdout
            self._cache[key] = [d for d in yaml.safe_load_all(out) if d]
        return self._cache[key]


@pytest.fixture(scope="session")
def renderer(helm) -> Renderer:
    return Renderer(helm)


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]
