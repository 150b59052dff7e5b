#!/usr/bin/env bash
# Runs the whole test suite: unit and integration tests and the Python Cognito API
# suite (boto3, pycognito, the AWS CLI) on SQLite, then the integration and API suites
# on PostgreSQL when COGNATE_TEST_POSTGRES_URL is set (CI sets it). Python packages go
# in a project-local venv (.venv).
# The browser tests need Debian's chromium and chromium-driver (apt-get installs them)
# and axe-core from npm.
set -euo pipefail
cd "$(dirname "$0")"

# A real SMTP server for tests/api/mail.rs (COGNATE_TEST_PYTHON runs tests/smtp_sink.py).
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# aiosmtpd: a real SMTP server for tests/api/mail.rs; pyotp: TOTP codes computed apart from
# the server's; the rest: tests/python (requests
# uploads to user import jobs' pre-signed URLs).
PY_PACKAGES=('aiosmtpd==1.4.6' 'boto3==1.44.5' 'botocore==1.44.5' 'awscli==1.46.3' 'pycognito==2024.5.1' 'pyotp==2.9.0' 'prometheus-client==0.26.0' 'pytest==9.2.0' 'requests==2.34.2')
if ! .venv/bin/python -c 'import aiosmtpd, boto3, pycognito, pyotp, pytest, awscli, requests' 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
fi
export COGNATE_TEST_PYTHON="$PWD/.venv/bin/python"

# axe-core, the accessibility checker tests/api/browser_pages.rs runs on every hosted
# page: pinned in tests/a11y/package-lock.json, installed there by npm when missing.
if [ ! -f tests/a11y/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "== installing npm (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null ||
      { echo "test.sh: could not install npm with apt-get" >&2; exit 1; }
  fi
  echo "== installing axe-core (npm ci in tests/a11y)"
  npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error ||
    { echo "test.sh: could not install axe-core with npm (tests/a11y)" >&2; exit 1; }
fi

# Headless Chromium for tests/api/browser.rs: Debian's chromium and chromium-driver.
if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium and chromium-driver (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null ||
    { echo "test.sh: could not install chromium and chromium-driver with apt-get" >&2; exit 1; }
fi
export COGNATE_BROWSER_TESTS=1

# jq and curl: the README's quick start uses them, and tests/python/test_readme.py follows it.
if ! command -v jq >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  echo "== installing jq and curl (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jq curl >/dev/null ||
    { echo "test.sh: could not install jq and curl with apt-get" >&2; exit 1; }
fi

echo "== tests on SQLite"
env -u COGNATE_TEST_POSTGRES_URL cargo test --all-targets
echo "== Cognito API suite (Python) on SQLite"
env -u COGNATE_TEST_POSTGRES_URL .venv/bin/python -m pytest tests/python -q

if [ -n "${COGNATE_TEST_POSTGRES_URL:-}" ]; then
  echo "== integration tests on PostgreSQL"
  if command -v psql >/dev/null 2>&1; then
    # Drop the per-test databases earlier runs left behind.
    psql "$COGNATE_TEST_POSTGRES_URL" -Atqc \
      "select datname from pg_database where datname like 'cognate_t_%'" |
      while read -r db; do psql "$COGNATE_TEST_POSTGRES_URL" -qc "drop database if exists \"$db\"" >/dev/null; done
  fi
  cargo test --test api
  echo "== Cognito API suite (Python) on PostgreSQL"
  .venv/bin/python -m pytest tests/python -q
else
  echo "== PostgreSQL suite skipped: COGNATE_TEST_POSTGRES_URL is not set"
fi

# Fault tests R-1 … R-11 (SECURITY_MATRIX.md §4.3), reduced size: kill -9, locks, a
# private PostgreSQL cluster restarted, two instances racing, clock skew (faketime), key
# rotation, backups. Full size: FAULT_SIZE=full tests/fault/run.
echo "== fault tests (reduced)"
cargo build --quiet
COGNATE_TEST_PYTHON="$PWD/.venv/bin/python" tests/fault/run

# The benchmark harness in smoke mode (about a second per part) on the debug build:
# checks that bench/run works and every kind answers without errors, not the numbers
# (BENCHMARKS.md has those, from the release build).
if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
    { echo "test.sh: could not install wrk with apt-get" >&2; exit 1; }
fi
echo "== benchmark harness (smoke, debug build)"
bench/run --smoke --binary "${CARGO_TARGET_DIR:-target}/debug/cognate"

# A short fuzz run of every parser of untrusted input (fuzz/README.md): 15 s per target,
# after a sanitizer build of its own (several minutes the first time). The crash inputs
# found so far are already replayed above by `cargo test` (fuzz_regressions).
echo "== fuzzing (15 s per target)"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
FUZZ_SECONDS=15 fuzz/run.sh
