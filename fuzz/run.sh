#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each; FUZZ_SECONDS=600 for
# the ten-minute runs). Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP
# lets the stable toolchain accept the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
export RUSTC_BOOTSTRAP=1

# Seed the state splitter with the shared payloads, each behind a nonce.
payloads=../../shared/payloads
mkdir -p corpus/state_split
if [ -d "$payloads" ]; then
  i=0
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    printf 'n0nce_%s' "$line" > "corpus/state_split/seed-$i"; i=$((i + 1))
  done < <(cat "$payloads/open_redirect.txt" "$payloads/open_redirect_allowed.txt")
  while IFS=$'\t' read -r input _; do
    case "$input" in ''|'#'*) continue ;; esac
    printf '%s' "$input" > "corpus/state_split/seed-$i"; i=$((i + 1))
  done < "$payloads/state_split.tsv"
fi

for target in $(cargo fuzz list); do
  echo "== fuzzing $target for ${seconds}s"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=4096
done
