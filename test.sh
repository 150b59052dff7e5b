#!/usr/bin/env bash
# Runs the whole test suite: unit and integration tests on SQLite, then the same
# integration suite on PostgreSQL when COGNATE_TEST_POSTGRES_URL is set (CI sets it).
# Installs nothing the Rust toolchain does not already provide.
set -euo pipefail
cd "$(dirname "$0")"

echo "== tests on SQLite"
env -u COGNATE_TEST_POSTGRES_URL cargo test --all-targets

if [ -n "${COGNATE_TEST_POSTGRES_URL:-}" ]; then
  echo "== integration tests on PostgreSQL"
  if command -v psql >/dev/null 2>&1; then
    # Drop the per-test databases earlier runs left behind.
    psql "$COGNATE_TEST_POSTGRES_URL" -Atqc \
      "select datname from pg_database where datname like 'cognate_t_%'" |
      while read -r db; do psql "$COGNATE_TEST_POSTGRES_URL" -qc "drop database if exists \"$db\"" >/dev/null; done
  fi
  cargo test --test api
else
  echo "== PostgreSQL suite skipped: COGNATE_TEST_POSTGRES_URL is not set"
fi
