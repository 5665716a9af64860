"""`aether index` against the fault-injecting HTTP provider: the seed spec's pass criteria,
end to end through the real command, the real guard and the real store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aether.store.packing import sir_json_of
from aether.store.queries import qname as qualified
from aether.store.records import utc_text
from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config, write

API_KEY = "sk-test-4f9b2c7d1e8a3b6c5d0e9f1a2b3c4d5e"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(default="ok") as fp:
        yield fp


def configure(root: Path, fake: FakeProvider, **extra: object) -> None:
    settings = {
        "provider": "openai", "endpoint": fake.endpoint("openai"), "model": "fake-1",
        "timeout_s": 2.0, "deadline_s": 10.0,
        "max_attempts": 3, "backoff_base_s": 0.01, "backoff_cap_s": 0.05,
        "breaker_threshold": 5, "breaker_cooldown_s": 60.0, "requests_per_minute": 6000,
        **extra,
    }
    trusted_config(root, "inference", settings)


def index(root: Path) -> dict[str, object]:
    return index_run(root)[0]


def index_run(root: Path, *flags: str) -> tuple[dict[str, object], str]:
    """`aether index --json`: its report and its stderr."""
    res = subprocess.run([sys.executable, "-m", "aether", "index", "--workspace", str(root),
                          "--json", *flags], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "AETHER_TEST_KEY": API_KEY,
                              # the key variable is the user's choice: never a workspace file's
                              "AETHER_INFERENCE_API_KEY_ENV": "AETHER_TEST_KEY"})
    assert res.returncode == 0, res.stderr
    assert API_KEY not in res.stdout + res.stderr
    return json.loads(res.stdout), res.stderr


def sir_row(root: Path, qname: str) -> tuple[str | None, str, str | None, str | None]:
    conn = sqlite3.connect(root / ".aether/aether.db")
    try:
        # no sir_meta row: a plain 'ok' SIR, attempted when it was made (schema v22)
        row = conn.execute(
            "SELECT r.sir_json, COALESCE(m.sir_status, 'ok'), m.last_error, "
            "CASE WHEN m.seq IS NULL THEN r.created_at ELSE m.last_attempt_at END "
            "FROM symbols s LEFT JOIN sir_meta m ON m.seq = s.seq "
            f"LEFT JOIN sir r ON r.seq = s.seq WHERE {qualified('s')} = ?", (qname,)
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return (sir_json_of(row[0]), row[1], row[2], None if row[3] is None else utc_text(row[3]))


def test_failure_keeps_last_good_sir_and_success_clears_stale(
    workspace: Path, fake: FakeProvider
) -> None:
    configure(workspace, fake)
    first = index(workspace)
    assert first["sir_ok"] == 4 and fake.count == 4
    assert all(r.headers.get("authorization") == f"Bearer {API_KEY}" for r in fake.requests())
    good_json, status, err, _ = sir_row(workspace, "load_token")
    assert status == "ok" and err is None and good_json

    # edit one function; the provider now fails every attempt with a 500
    path = workspace / "pkg/session.py"
    path.write_text(path.read_text().replace("raise KeyError(name)", "return ''"))
    fake.clear()
    fake.set_default("500")
    index(workspace)
    assert fake.count == 3  # only the edited symbol, max_attempts tries
    sir_json, status, err, attempted = sir_row(workspace, "load_token")
    assert sir_json == good_json  # the last good SIR is kept
    assert status == "stale" and err and "500" in err and attempted
    assert sir_row(workspace, "Session.send")[1] == "ok"  # untouched symbols stay ok

    # a later success clears it
    fake.clear()
    fake.set_default("ok")
    index(workspace)
    assert fake.count == 1
    sir_json, status, err, attempted2 = sir_row(workspace, "load_token")
    assert status == "ok" and err is None and sir_json
    assert attempted2 and attempted and attempted2 > attempted
    conn = sqlite3.connect(workspace / ".aether/aether.db")
    fresh = conn.execute("SELECT COALESCE(r.source_hash, s.content_hash) = s.content_hash "
                         "FROM sir r JOIN symbols s "
                         f"ON s.seq = r.seq WHERE {qualified('s')} = 'load_token'")
    assert fresh.fetchone()[0] == 1  # the SIR now describes the edited code


def test_401_stops_the_provider_after_one_request_and_key_never_stored_or_logged(
    workspace: Path, fake: FakeProvider
) -> None:
    write(workspace, "many.py", "".join(f"def g{i}():\n    return {i}\n\n" for i in range(20)))
    configure(workspace, fake)
    fake.set_default("401")  # the fake echoes the presented key in its error body
    out, stderr = index_run(workspace)
    assert out["sir_stale"] == 24
    assert fake.count == 1  # fatal for the provider: never retried, no other symbol sent
    conn = sqlite3.connect(workspace / ".aether/aether.db")
    errors = {r[0] for r in conn.execute("SELECT last_error FROM sir_meta")}
    assert len(errors) == 1  # every symbol carries the one error
    (err,) = errors
    assert "401" in err and "AETHER_TEST_KEY" in err and "not called again" in err
    warnings = [line for line in stderr.splitlines() if "401" in line]
    assert len(warnings) == 1, stderr  # one line for the run, not 24
    for file in (workspace / ".aether").rglob("*"):
        if file.is_file():
            assert API_KEY.encode() not in file.read_bytes(), file


def test_500_storm_over_50_symbols_is_cut_short_by_the_breaker(
    workspace: Path, fake: FakeProvider
) -> None:
    write(workspace, "many.py", "".join(f"def f{i}():\n    return {i}\n\n" for i in range(46)))
    configure(workspace, fake, max_concurrency=2)
    fake.set_default("500")
    out = index(workspace)
    assert out["symbol_count"] == 50 and out["sir_stale"] == 50
    # threshold (5) plus a few in flight when it opened; never 50 x max_attempts
    assert fake.count <= 5 + 4
    conn = sqlite3.connect(workspace / ".aether/aether.db")
    errors = dict(conn.execute("SELECT error_type, COUNT(*) FROM errors GROUP BY 1").fetchall())
    assert errors.get("circuit_open", 0) >= 40
    msg = conn.execute("SELECT last_error FROM sir_meta WHERE last_error LIKE "
                       "'circuit_open%' LIMIT 1").fetchone()[0]
    assert "circuit" in msg and "open" in msg


def test_429_storm_is_bounded_by_the_retry_budget(workspace: Path, fake: FakeProvider) -> None:
    """36 symbols, every answer a 429: each symbol is sent once, and the retries the budget
    allows are its floor (3) plus one once 31 attempts are in the window (10%): 40, where the
    unbudgeted guard sent 129."""
    write(workspace, "many.py", "".join(f"def f{i}():\n    return {i}\n\n" for i in range(32)))
    configure(workspace, fake, requests_per_minute=60_000)
    fake.set_default("429:0.05")
    out = index(workspace)
    assert out["symbol_count"] == 36 and out["sir_pending"] == 0 and out["sir_stale"] == 36
    assert fake.count == 40
    assert set(fake.statuses()) == {429}
    conn = sqlite3.connect(workspace / ".aether/aether.db")
    messages = [r[0] for r in conn.execute("SELECT last_error FROM sir_meta")]
    assert sum("retry budget exhausted" in m for m in messages) >= 30
    assert out["inference_seconds"] >= 0 and out["parse_seconds"] >= 0
