#!/usr/bin/env bash
# kustomize, pinned, built once from the Go module proxy and cached (no Docker, no kubectl needed):
#   scripts/infra/kustomize.sh build deploy/k8s/overlays/dev
# Env: KUSTOMIZE_VERSION (v5.7.1), KUSTOMIZE_CACHE (${XDG_CACHE_HOME:-~/.cache}/territory/kustomize).
# Without Go it falls back to `kubectl kustomize` (kubectl embeds kustomize) for `build`.
set -euo pipefail
version=${KUSTOMIZE_VERSION:-v5.7.1}
dir=${KUSTOMIZE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/territory/kustomize}/$version
bin=$dir/kustomize

if [[ ! -x $bin ]]; then
  if command -v go >/dev/null 2>&1; then
    mkdir -p "$dir"
    # One build at a time (parallel test sessions share the cache).
    exec 9>"$dir/.lock"
    flock -w 600 9
    if [[ ! -x $bin ]]; then
      echo "kustomize.sh: building sigs.k8s.io/kustomize/kustomize/v5@$version into $dir (once)" >&2
      GOBIN=$dir GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
    fi
    exec 9>&-
  elif command -v kubectl >/dev/null 2>&1 && [[ ${1:-} == build ]]; then
    shift
    exec kubectl kustomize "$@"
  else
    echo "kustomize.sh: needs Go (to build kustomize $version) or kubectl" >&2
    exit 1
  fi
fi
exec "$bin" "$@"
