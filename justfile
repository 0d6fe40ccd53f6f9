# Developer shortcuts; each mirrors a command in the README.

# The HTTP API on 127.0.0.1:8080 (the README's "run" command).
run:
    cargo run --release --bin chartimpact-server

# Compare the two fixture manifests.
diff-fixtures:
    cargo run --release --bin chartimpact -- diff fixtures/manifests/before.yaml fixtures/manifests/after.yaml

# Every test (the README's "test" command).
test:
    scripts/test.sh

# What CI checks: formatting, lints, tests.
ci:
    .ci/run

# Side-by-side speed of `chartimpact diff` vs GNU diff on the largest corpus case.
bench-diff:
    scripts/bench-diff.sh

# Side-by-side speed of `chartimpact render` vs `helm template` (largest and a small chart).
bench-render:
    scripts/bench-render.sh

# Criterion benchmarks.
bench:
    cargo bench --workspace

# Regenerate the execution profile release builds are optimised with (pgo/).
pgo-profile:
    scripts/pgo-profile.sh
