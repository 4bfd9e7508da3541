#!/usr/bin/env bash
# Prints the path of a pinned helm binary, building it once from the Go module proxy
# (`go install`, no prebuilt download) into tools/helm/bin/ (git-ignored).
# The first build takes a few minutes; later calls return at once.
set -euo pipefail
HELM_VERSION="${KLERO_HELM_VERSION:-v3.19.0}"
here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="${KLERO_HELM_BIN_DIR:-$here/bin/$HELM_VERSION}"
helm="$bin_dir/helm"

if [[ ! -x "$helm" ]]; then
  command -v go >/dev/null || { echo "tools/helm/install.sh: needs Go (go install) to build helm" >&2; exit 1; }
  mkdir -p "$bin_dir"
  echo "tools/helm/install.sh: building helm $HELM_VERSION with go install (first time only)" >&2
  # The -X flags are the ones helm's own Makefile sets: without them `helm version` says
  # "v3.19" and offline rendering assumes Kubernetes v1.20 (client-go v0.34 -> 1.34).
  ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${KLERO_HELM_K8S_MINOR:-34}"
  done
  # -buildvcs=false: the module cache has no VCS data.
  GOBIN="$bin_dir" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
fi
"$helm" version --short >/dev/null
echo "$helm"
