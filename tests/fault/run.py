"""Runs the fault tests R-1 … R-11 and prints a results table for docs/security.md.

    tests/fault/run                     # reduced size (CI), SQLite and PostgreSQL
    FAULT_SIZE=full tests/fault/run     # the matrix's full counts
    tests/fault/run R-3 R-5             # some rows only
    FAULT_BACKENDS=sqlite tests/fault/run

PostgreSQL rows use a private cluster (initdb in a temp dir, 127.0.0.1, random port).
Exits non-zero if any row fails.
"""
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import rows  # noqa: E402
from harness import Env, Postgres  # noqa: E402

# row, backend, function; a string instead of a function marks a row not built.
PLAN = [
    ("R-1", "sqlite", lambda ctx: rows.test_r1_kill_mid_signup(ctx.env("sqlite"))),
    ("R-1", "postgres", lambda ctx: rows.test_r1_kill_mid_signup(ctx.env("postgres"))),
    ("R-2", "sqlite", lambda ctx: rows.test_r2_kill_mid_token_exchange(ctx.env("sqlite"))),
    ("R-2", "postgres", lambda ctx: rows.test_r2_kill_mid_token_exchange(ctx.env("postgres"))),
    ("R-3", "sqlite", lambda ctx: rows.test_r3_sqlite_locked(ctx.env("sqlite"))),
    ("R-4", "postgres", lambda ctx: rows.test_r4_postgres_restart(ctx.env("postgres"), ctx.pg)),
    ("R-5", "postgres", lambda ctx: rows.test_r5_two_instances_race(ctx.env("postgres"), ctx.pg)),
    ("R-5", "postgres serializable",
     lambda ctx: rows.test_r5_two_instances_race(ctx.env("postgres"), ctx.pg, serializable=True)),
    ("R-6", "sqlite", lambda ctx: rows.test_r6_clock_skew(ctx.env("sqlite"))),
    ("R-6", "postgres", lambda ctx: rows.test_r6_clock_skew(ctx.env("postgres"))),
    ("R-7", "sqlite", lambda ctx: rows.test_r7_disk_full(ctx.tmp())),
    ("R-8", "postgres", lambda ctx: rows.test_r8_key_rotation(ctx.env("postgres"))),
    ("R-8", "sqlite", lambda ctx: rows.test_r8_key_rotation(ctx.env("sqlite"))),
    ("R-9", "sqlite", lambda ctx: rows.test_r9_webhook_receiver_down_or_slow(ctx.env("sqlite"))),
    ("R-10", "sqlite", lambda ctx: rows.test_r10_restart_with_sessions(ctx.env("sqlite"))),
    ("R-10", "postgres", lambda ctx: rows.test_r10_restart_with_sessions(ctx.env("postgres"))),
    ("R-11", "sqlite", lambda ctx: rows.test_r11_backup_restore(ctx.env("sqlite"))),
    ("R-11", "postgres", lambda ctx: rows.test_r11_backup_restore(ctx.env("postgres"), ctx.pg)),
]


class Context:
    def __init__(self, root):
        self.root = root
        self._pg = None
        self.envs = []

    @property
    def pg(self):
        if self._pg is None:
            self._pg = Postgres(self.tmp())
        return self._pg

    def tmp(self):
        return tempfile.mkdtemp(dir=self.root)

    def env(self, backend):
        e = Env(backend, self.tmp(), pg=self.pg if backend == "postgres" else None)
        self.envs.append(e)
        return e

    def close(self):
        for e in self.envs:
            e.close()
        if self._pg:
            self._pg.close()


def main(argv):
    wanted = set(argv)
    backends = set((os.environ.get("FAULT_BACKENDS") or "sqlite,postgres").split(","))
    size = "full" if rows.FULL else "reduced"
    if not harness.BINARY.exists():
        sys.exit(f"build first: {harness.BINARY}")
    root = tempfile.mkdtemp(prefix="cognate-fault-")
    ctx = Context(root)
    results = []
    started = time.time()
    try:
        for row, backend, fn in PLAN:
            if wanted and row not in wanted:
                continue
            if backend != "-" and backend.split()[0] not in backends:
                continue
            if isinstance(fn, str):
                results.append((row, backend, size, 0, "NOT RUN", 0.0, fn))
                continue
            print(f"== {row} on {backend} ({size})", flush=True)
            t0 = time.time()
            try:
                reps = fn(ctx)
                results.append((row, backend, size, reps, "pass", time.time() - t0, ""))
            except Exception as e:  # noqa: BLE001 - every row reports
                traceback.print_exc()
                results.append((row, backend, size, 0, "FAIL", time.time() - t0, " ".join(str(e).split())[:300]))
    finally:
        ctx.close()
    print()
    print("| row | backend | size | repetitions | result | seconds | note |")
    print("|---|---|---|---|---|---|---|")
    for row, backend, sz, reps, result, secs, note in results:
        print(f"| {row} | {backend} | {sz} | {reps} | {result} | {secs:.1f} | {note} |")
    print(f"\ntotal {time.time() - started:.0f}s; logs and databases in {root}")
    failed = [r for r in results if r[4] == "FAIL"]
    if not failed:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
