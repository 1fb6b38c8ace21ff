#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, formatting, lints, every test, and a
# short run of each fuzz target. Ends with one line: "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
PUNKTFUNK_REQUIRE_TOOLS=1 cargo test --workspace --locked 2>&1 | tee "$log"

echo "== fuzz smoke (${FUZZ_SECONDS:-10}s per target)"
FUZZ_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" bash fuzz/run.sh "${FUZZ_SECONDS:-10}"

# One closing line over every cargo test binary.
awk '/^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i+1) ~ /^passed/) p += $i
         if ($(i+1) ~ /^failed/) f += $i
         if ($(i+1) ~ /^ignored/) s += $i
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
