#!/usr/bin/env bash
# Builds the ChartImpact container image (Dockerfile) from a release build of this checkout, and
# smoke-tests it: the binaries run as uid 10001, and the server answers /api/health.
#
# Usage: scripts/build-image.sh [--tag NAME] [--binaries DIR] [--no-helm] [--base IMAGE]
#                               [--base-from-debian] [--build-ca FILE] [--no-smoke-test]
#   --tag NAME          image name (default chartimpact:<version>)
#   --binaries DIR      take chartimpact and chartimpact-server from DIR instead of running
#                       `cargo build --release` (they must be built for Debian 12's glibc or older)
#   --no-helm           leave helm out of the image (WITH_HELM=false)
#   --base IMAGE        runtime base image (default docker.io/library/debian:bookworm-slim)
#   --base-from-debian  make the base image from Debian packages with mmdebstrap, for machines that
#                       reach Debian's archive but no container registry (kept as
#                       localhost/chartimpact-base:bookworm; made once)
#   --build-ca FILE     a CA bundle the build's downloads trust (an intercepting proxy's; buildah
#                       and podman mount it into the build only, it is not in the image)
#   --no-smoke-test     build only
#
# Builders, in this order: buildah, podman, docker. buildah and podman honour STORAGE_DRIVER and
# BUILDAH_ISOLATION; where the kernel offers no overlay mounts or user namespaces (a container
# running as root, say) use STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot. vfs stores every layer
# as a full copy: clear old builds with `buildah rm --all; buildah rmi --prune`.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
tag="chartimpact:${version}"
binaries=""
with_helm=true
base="docker.io/library/debian:bookworm-slim"
base_from_debian=false
smoke=true
build_ca=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --binaries) binaries="$2"; shift 2 ;;
    --no-helm) with_helm=false; shift ;;
    --base) base="$2"; shift 2 ;;
    --base-from-debian) base_from_debian=true; shift ;;
    --build-ca) build_ca="$2"; shift 2 ;;
    --no-smoke-test) smoke=false; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

builder=""
for b in buildah podman docker; do
  if command -v "$b" >/dev/null; then builder="$b"; break; fi
done
[ -n "$builder" ] || { echo "build-image: no image builder: install buildah (apt-get install buildah), podman or docker" >&2; exit 1; }

# The runtime base made from Debian packages, once.
if $base_from_debian; then
  [ "$builder" = docker ] && { echo "build-image: --base-from-debian needs buildah or podman" >&2; exit 1; }
  base="localhost/chartimpact-base:bookworm"
  if ! "$builder" image exists "$base" 2>/dev/null && ! "$builder" inspect --type image "$base" >/dev/null 2>&1; then
    command -v mmdebstrap >/dev/null || { echo "build-image: --base-from-debian needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
    rootfs="$(mktemp --suffix=.tar)"
    trap 'rm -f "$rootfs"' EXIT
    echo "== base image from Debian packages (mmdebstrap)"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$rootfs" \
      "deb http://deb.debian.org/debian bookworm main" \
      "deb http://deb.debian.org/debian bookworm-updates main" \
      "deb http://deb.debian.org/debian-security bookworm-security main"
    command -v buildah >/dev/null || { echo "build-image: --base-from-debian needs buildah to import the root filesystem" >&2; exit 1; }
    ctr="$(buildah from scratch)"
    buildah add --quiet "$ctr" "$rootfs" / >/dev/null
    buildah config --cmd /bin/bash "$ctr"
    buildah commit --quiet "$ctr" "$base" >/dev/null
    buildah rm "$ctr" >/dev/null
  fi
fi

# Release binaries, stripped (the release profile keeps line tables: 190 MB → 30 MB).
rm -rf dist && mkdir -p dist
if [ -z "$binaries" ]; then
  echo "== cargo build --release"
  cargo build --release --locked --bin chartimpact-server --bin chartimpact
  binaries="${CARGO_TARGET_DIR:-target}/release"
fi
for bin in chartimpact-server chartimpact; do
  [ -x "$binaries/$bin" ] || { echo "build-image: $binaries/$bin is missing (cargo build --release)" >&2; exit 1; }
  install -m 0755 -s "$binaries/$bin" "dist/$bin"
done

revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
args=(--build-arg BINARIES=prebuilt --build-arg "WITH_HELM=$with_helm"
      --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version" --build-arg "REVISION=$revision"
      -t "$tag" -f Dockerfile .)
# A base that exists only in local storage must not be looked up in a registry.
pull=()
case "$base" in localhost/*) pull=(--pull=false) ;; esac
if [ -n "$build_ca" ]; then
  [ "$builder" = docker ] && { echo "build-image: --build-ca needs buildah or podman (build-time volumes)" >&2; exit 1; }
  [ -r "$build_ca" ] || { echo "build-image: cannot read --build-ca $build_ca" >&2; exit 1; }
  args=(-v "$(realpath "$build_ca"):/run/build-ca.crt:ro" --build-arg BUILD_CA=/run/build-ca.crt "${args[@]}")
fi
echo "== $builder: $tag (base $base, helm $with_helm)"
case "$builder" in
  buildah) buildah bud "${pull[@]}" "${args[@]}" ;;
  podman) podman build "${pull[@]}" "${args[@]}" ;;
  docker) docker build "${args[@]}" ;;
esac

$smoke || exit 0
echo "== smoke test"
if [ "$builder" = docker ]; then
  run() { docker run --rm --entrypoint "$1" "$tag" "${@:2}"; }
else
  command -v buildah >/dev/null || { echo "build-image: the smoke test uses buildah run; pass --no-smoke-test" >&2; exit 1; }
  ctr="$(buildah from --pull=never "$tag")"
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
  run() { buildah run "$ctr" -- "$@"; }
fi
uid="$(run id -u)"
[ "$uid" = 10001 ] || { echo "build-image: the image runs as uid $uid, not 10001" >&2; exit 1; }
run chartimpact-server --version
run chartimpact --version
if $with_helm; then run helm version --template '{{.Version}}'; echo; fi
# The server itself, on the host's network (buildah run shares it; docker gets -p).
port=18089
if [ "$builder" = docker ]; then
  cid="$(docker run -d --rm -p "127.0.0.1:$port:8080" --read-only --tmpfs /tmp --tmpfs /data:uid=10001 \
    --cap-drop ALL --security-opt no-new-privileges "$tag")"
  stop() { docker stop "$cid" >/dev/null; }
else
  # buildah run does not pass signals on: the server gets 10 s, then timeout stops it.
  buildah run "$ctr" -- env CHARTIMPACT_LISTEN="127.0.0.1:$port" CHARTIMPACT_DATA_DIR=/tmp/data \
    timeout 10 chartimpact-server >/dev/null 2>&1 &
  server=$!
  stop() { wait "$server" 2>/dev/null || true; }
fi
health=""
for _ in $(seq 1 50); do
  health="$(curl -fsS "http://127.0.0.1:$port/api/health" 2>/dev/null)" && break
  sleep 0.2
done
stop
case "$health" in
  *'"status":"ok"'*) echo "health: ok" ;;
  *'"status":"degraded"'*) $with_helm && { echo "build-image: health is degraded: $health" >&2; exit 1; }; echo "health: degraded (no helm, as asked)" ;;
  *) echo "build-image: the server in the image did not answer /api/health: ${health:-nothing}" >&2; exit 1 ;;
esac
echo "built $tag"
