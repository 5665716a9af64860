"""Usage ledger and spend caps, end to end: the real `aether index`/`usage`/`status`
against the fault-injecting HTTP provider, with requests and tokens counted at the server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aether.trust import trust
from tests.fakeprovider import FakeProvider
from tests.helpers import write
from tests.test_inference_e2e import API_KEY, configure, index_run


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(default="ok") as fp:
        yield fp


def funcs(prefix: str, n: int) -> str:
    """n functions of the same shape (names of the same length), so requests cost alike."""
    return "".join(f"def {prefix}{i:02d}(value):\n    return value + {i:02d}\n\n"
                   for i in range(n))


def aether(root: Path, *args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "aether", *args, "--workspace", str(root)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AETHER_TEST_KEY": API_KEY,
                              "AETHER_INFERENCE_API_KEY_ENV": "AETHER_TEST_KEY"})
    assert res.returncode == 0, res.stderr
    return res.stdout


def db(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / ".aether/aether.db")


def add_pricing(root: Path, model: str, inp: float, outp: float) -> None:
    path = root / ".aether/config.toml"
    path.write_text(path.read_text() + f'\n[pricing."{model}"]\ninput = {inp}\noutput = {outp}\n')
    trust(path)  # the user's own edit: trusted again


def test_ledger_records_every_request_with_reported_tokens_and_cost(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", funcs("a", 4))
    configure(root, fake)
    add_pricing(root, "fake-1", 2.0, 8.0)
    fake.push("429:0.01", "500")  # failed requests are in the ledger too
    out, _ = index_run(root)
    assert out["sir_ok"] == 4 and fake.count == 6
    rows = db(root).execute("SELECT status, input_tokens, output_tokens, reported, cost, "
                            "provider, model FROM usage").fetchall()
    assert len(rows) == fake.count
    assert sorted(r[0] for r in rows) == ["429", "500", "ok", "ok", "ok", "ok"]
    ok = [r for r in rows if r[0] == "ok"]
    assert all(r[3] == 1 and r[5:] == ("openai", "fake-1") for r in ok)
    assert sum(r[1] + r[2] for r in ok) == fake.reported_tokens()
    expected = sum(r[1] * 2.0 + r[2] * 8.0 for r in ok) / 1e6
    assert sum(r[4] for r in rows) == pytest.approx(expected)

    report = json.loads(aether(root, "usage", "--since", "7d", "--json"))
    (row,) = report["rows"]
    assert row["requests"] == 6 and row["ok"] == 4 and row["priced"]
    assert row["input_tokens"] + row["output_tokens"] == fake.reported_tokens()
    assert "fake-1" in aether(root, "usage")
    status = json.loads(aether(root, "status", "--json"))
    assert status["spend"]["today_tokens"] == fake.reported_tokens()
    assert status["spend"]["today_cost"] == pytest.approx(expected, abs=1e-6)


def _calibrate(root: Path, fake: FakeProvider) -> int:
    """Index 6 functions without caps; returns the tokens one such request costs."""
    write(root, "a.py", funcs("a", 6))
    configure(root, fake, max_concurrency=1)
    index_run(root)
    per_request = [a + b for o in fake.requests() for a, b in [o.usage or (0, 0)]]
    assert len(per_request) == 6 and max(per_request) - min(per_request) <= 2
    fake.clear()
    return max(per_request)


def test_run_cap_stops_requests_exactly_at_the_cap(tmp_path: Path, fake: FakeProvider) -> None:
    root = tmp_path / "ws"
    t = _calibrate(root, fake)
    write(root, "b.py", funcs("b", 12))
    configure(root, fake, max_concurrency=1, max_tokens_per_run=5 * t + t // 2)
    out, stderr = index_run(root)
    assert fake.count == 5  # counted at the server: the 6th would cross the cap
    assert fake.reported_tokens() <= 5 * t + t // 2
    assert out["sir_deferred"] == 7 and "max_tokens_per_run" in str(out["spend_cap"])
    rows = db(root).execute("SELECT m.sir_status, m.last_error FROM sir_meta m JOIN symbols s "
                            "ON s.seq = m.seq WHERE s.file = (SELECT id FROM files "
                            "WHERE path = 'b.py')").fetchall()
    pending = [e for st, e in rows if st == "pending"]
    assert len(pending) == 7 and all("max_tokens_per_run" in e and "resets" in e
                                     for e in pending)
    assert sum("max_tokens_per_run" in line for line in stderr.splitlines()) == 1
    # a new run has a new budget: the next 5
    fake.clear()
    index_run(root)
    assert fake.count == 5


def test_day_cap_holds_until_the_day_rolls_over(tmp_path: Path, fake: FakeProvider) -> None:
    root = tmp_path / "ws"
    t = _calibrate(root, fake)  # 6 requests already spent today
    write(root, "b.py", funcs("b", 8))
    configure(root, fake, max_concurrency=1, max_tokens_per_day=9 * t + t // 2)
    index_run(root)
    assert fake.count == 3
    status = json.loads(aether(root, "status", "--json"))
    assert status["spend"]["left"]["tokens_today"] < t
    fake.clear()
    index_run(root)
    assert fake.count == 0  # same day: nothing more
    # the day rolls over (the ledger's rows now belong to yesterday): work resumes
    conn = db(root)
    with conn:
        conn.execute("UPDATE usage SET day = '2000-01-01'")
    index_run(root)
    assert fake.count == 5
    assert db(root).execute("SELECT COUNT(*) FROM sir_meta WHERE sir_status != 'ok'"
                            ).fetchone()[0] == 0


def test_cap_zero_never_calls_and_keeps_the_static_sirs(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", funcs("a", 3))
    aether(root, "index")  # static
    configure(root, fake, max_tokens_per_run=0)
    out, _ = index_run(root)
    assert fake.count == 0 and out["sir_deferred"] == 3
    rows = db(root).execute("SELECT k.provider, m.last_error FROM sir r JOIN sir_makers k "
                            "ON k.id = r.maker JOIN sir_meta m ON m.seq = r.seq").fetchall()
    assert len(rows) == 3 and all(p == "static" and "max_tokens_per_run" in e for p, e in rows)


def test_unpriced_model_under_a_cost_cap_is_not_called(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", funcs("a", 2))
    configure(root, fake, max_cost_per_day=1.0)
    out, _ = index_run(root)
    assert fake.count == 0 and "has no price" in str(out["spend_cap"])
    add_pricing(root, "fake-1", 1.0, 1.0)
    index_run(root)
    assert fake.count == 2


def test_estimate_matches_what_the_provider_then_reports(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", funcs("a", 6))
    configure(root, fake)
    index_run(root)  # earlier usage: the estimate calibrates from it
    fake.clear()
    write(root, "b.py", "import json\n\n\nclass Codec:\n    \"\"\"Encodes records.\"\"\"\n\n"
          + "".join(f"    def encode_{i}(self, record, *, indent=None):\n"
                    f"        return json.dumps(record, indent=indent) + '{'x' * i}'\n\n"
                    for i in range(10)))
    write(root, "c.py", funcs("c", 5))
    dry, _ = index_run(root, "--dry-run")
    assert fake.count == 0  # nothing sent
    est = json.loads(aether(root, "estimate", "--json"))
    assert est == dry
    assert est["symbols"] == est["requests"] == 16 and est["reasons"] == {"new": 16}
    assert est["token_estimate"]["calibrated_from_requests"] == 6
    index_run(root)
    assert fake.count == 16
    reported = fake.reported_tokens()
    assert abs(est["total_tokens"] - reported) <= 0.15 * reported, (est, reported)
    assert "nothing was sent" in aether(root, "estimate")
