#!/usr/bin/env bash
# Puts a `chartimpact` binary on the PATH of the following steps of a GitHub Actions job (the
# first step of action.yml). In order of preference:
#   CHARTIMPACT_BINARY   a binary already on the runner (a previous step built or cached it);
#   CHARTIMPACT_VERSION  a release: downloads chartimpact-<version>-<target>.tar.gz and its
#                        .sha256 from CHARTIMPACT_RELEASES/<version>/, checks the digest;
#   otherwise            builds it from the action's own source (CHARTIMPACT_SOURCE) with cargo
#                        (Rust 1.95+; CARGO_TARGET_DIR may point at a cached directory).
# The binary goes to CHARTIMPACT_INSTALL_DIR, which is appended to GITHUB_PATH.
set -euo pipefail

fail() { echo "::error title=ChartImpact install::$*" >&2; exit 1; }

dir="${CHARTIMPACT_INSTALL_DIR:?CHARTIMPACT_INSTALL_DIR names where the binary goes}"
mkdir -p "$dir"

if [ -n "${CHARTIMPACT_BINARY:-}" ]; then
  [ -f "$CHARTIMPACT_BINARY" ] && [ -x "$CHARTIMPACT_BINARY" ] \
    || fail "binary: $CHARTIMPACT_BINARY is not an executable file"
  ln -sf "$(realpath "$CHARTIMPACT_BINARY")" "$dir/chartimpact"
elif [ -n "${CHARTIMPACT_VERSION:-}" ]; then
  case "$CHARTIMPACT_VERSION" in
    *[!A-Za-z0-9._-]*) fail "version: $CHARTIMPACT_VERSION is not a release tag (like v0.1.0)" ;;
  esac
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
    Linux-aarch64) target=aarch64-unknown-linux-gnu ;;
    *) fail "no release build for $(uname -s) $(uname -m); leave version empty to build from source" ;;
  esac
  : "${CHARTIMPACT_RELEASES:?CHARTIMPACT_RELEASES is the releases download URL}"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  asset="chartimpact-$CHARTIMPACT_VERSION-$target.tar.gz"
  for f in "$asset" "$asset.sha256"; do
    curl -fsSL --retry 3 --proto '=https,http' -o "$work/$f" "$CHARTIMPACT_RELEASES/$CHARTIMPACT_VERSION/$f" \
      || fail "cannot download $CHARTIMPACT_RELEASES/$CHARTIMPACT_VERSION/$f"
  done
  want="$(cut -d' ' -f1 < "$work/$asset.sha256")"
  got="$(sha256sum "$work/$asset" | cut -d' ' -f1)"
  [ "$want" = "$got" ] || fail "$asset: sha256 is $got, the release says $want"
  tar -xzf "$work/$asset" -C "$work" chartimpact || fail "$asset has no chartimpact binary at its root"
  install -m 0755 "$work/chartimpact" "$dir/chartimpact"
else
  : "${CHARTIMPACT_SOURCE:?CHARTIMPACT_SOURCE names the source directory of the action}"
  command -v cargo >/dev/null \
    || fail "cargo is not installed: set the action's version input to download a release, or install Rust 1.95+ first"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CHARTIMPACT_SOURCE/target}"
  # The runner's toolchain may be older than the workspace's rust-version; rustup (present on
  # GitHub's runners) brings the newest stable, which is enough.
  if command -v rustup >/dev/null; then
    rustup toolchain install stable --profile minimal --no-self-update >/dev/null 2>&1 || true
    export RUSTUP_TOOLCHAIN=stable
  fi
  cargo build --release --locked --quiet --bin chartimpact --manifest-path "$CHARTIMPACT_SOURCE/Cargo.toml" \
    || fail "building chartimpact from $CHARTIMPACT_SOURCE failed"
  install -m 0755 "$CARGO_TARGET_DIR/release/chartimpact" "$dir/chartimpact"
fi

"$dir/chartimpact" --version >/dev/null || fail "$dir/chartimpact does not run on this runner"
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dir" >> "$GITHUB_PATH"
fi
echo "$("$dir/chartimpact" --version) at $dir/chartimpact"
