#!/usr/bin/env bash
# Builds the fuzz targets once, then runs each for a bounded time and prints one line
# per target (executions, seconds, findings). Usage: fuzz/run.sh [target ...]
#   FUZZ_SECONDS   seconds per target (default 30; 600 for the ten-minute runs)
#   FUZZ_NO_BUILD  1 = use the binaries already built
#   FUZZ_TARGET_DIR  where the sanitizer build goes (default fuzz/target; never the
#                  main build's directory, whose artefacts it would not share anyway)
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); RUSTC_BOOTSTRAP lets the
# stable toolchain accept the sanitizer flags cargo-fuzz passes. A crash input lands in
# fuzz/artifacts/<target>/; keep it in fuzz/regressions/<target>/ once fixed, where
# `cargo test --lib fuzz_regressions` replays it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-30}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="$CARGO_TARGET_DIR/$triple/release"

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
if [ "${FUZZ_NO_BUILD:-}" != 1 ]; then
  echo "== building the fuzz targets (sanitizer build in $CARGO_TARGET_DIR)"
  if [ "$#" -gt 0 ]; then
    for t in "${targets[@]}"; do cargo fuzz build "$t"; done
  else
    cargo fuzz build
  fi
fi

# Seeds: the committed ones, the kept crash inputs, and the project's payload files.
payloads=../tests/payloads
seed() { # target file-of-lines prefix
  local i=0
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    printf '%s%s' "$3" "$line" > "corpus/$1/payload-$(basename "$2")-$i"; i=$((i + 1))
  done < "$2"
}
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  for d in seeds regressions; do
    [ -d "$d/$t" ] && cp -n "$d/$t"/* "corpus/$t/" 2>/dev/null || true
  done
done
if [ -d "$payloads" ]; then
  for f in open_redirect.txt open_redirect_allowed.txt; do
    [ -d corpus/state_split ] && seed state_split "$payloads/$f" 'n0nce_'
    [ -d corpus/redirect_match ] && seed redirect_match "$payloads/$f" ''
  done
  [ -d corpus/state_split ] && seed state_split <(cut -f1 "$payloads/state_split.tsv") ''
  [ -d corpus/list_users_filter ] && seed list_users_filter "$payloads/usernames.txt" 'username = '
  [ -d corpus/authorize_query ] && seed authorize_query "$payloads/xss.txt" $'\x02state='
fi

failed=()
printf '%-18s %12s %8s  %s\n' target executions seconds findings
for t in "${targets[@]}"; do
  log="artifacts/$t/last-run.log"
  dict=()
  [ -f "dicts/$t.dict" ] && dict=("-dict=dicts/$t.dict")
  start=$SECONDS
  status=0
  "$bin/$t" "corpus/$t" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=30 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  findings=none
  if [ "$status" -ne 0 ]; then
    findings="CRASH (see $log and artifacts/$t/)"
    failed+=("$t")
  fi
  printf '%-18s %12s %8s  %s\n' "$t" "${runs:-?}" "$((SECONDS - start))" "$findings"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz/run.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
