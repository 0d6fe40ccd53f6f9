#!/usr/bin/env bash
# The project's test command (README): every crate's unit, integration and doc tests.
# The shared corpus is used when present (CHARTIMPACT_CORPUS, default ../shared/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHARTIMPACT_CORPUS="${CHARTIMPACT_CORPUS:-$(pwd)/../shared/corpus}"
export INSTA_UPDATE="${INSTA_UPDATE:-no}"
cargo test --workspace "$@"
