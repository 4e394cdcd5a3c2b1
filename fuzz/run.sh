#!/usr/bin/env bash
# Runs every fuzz target for a while (default 180 s each). Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). The corpus stays in fuzz/corpus (not committed).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-180}"
for t in header open age_body body_json jsonc mask proxy; do
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 | tail -3
done
