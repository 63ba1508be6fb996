#!/usr/bin/env bash
# Runs every fuzz target for a while (default 120 s each) with libFuzzer and
# AddressSanitizer, starting from the inputs in fuzz/seeds/<target>/; any
# crash stops the run, its input kept under fuzz/artifacts/<target>/. Needs a nightly toolchain and cargo-fuzz:
#
#   rustup toolchain install nightly && cargo install cargo-fuzz
#   fuzz/run.sh [seconds-per-target]
#
# The corpus grows in fuzz/corpus/<target>/ (not committed); a crash found
# here becomes a case in tests/parsers.rs, which the normal suite runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
for target in $(cargo +nightly fuzz list); do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target (${seconds} s)"
  # New inputs go to the first directory; the committed seeds are read too.
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 2>&1 |
    grep -E "^(stat::number_of_executed_units|#[0-9]+\s+DONE)|ERROR|panicked|SUMMARY" || true
  # A crash leaves its input behind; fail on it.
  if compgen -G "fuzz/artifacts/$target/crash-*" >/dev/null; then
    echo "$target crashed: fuzz/artifacts/$target/"; exit 1
  fi
done
echo "== no crash"
