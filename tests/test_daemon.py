"""The daemon: watching, one writer per workspace, self-healing, crash safety."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.daemon import Daemon
from tests.helpers import ScriptedProvider, write


async def eventually(check: Callable[[], object], within: float = 20.0) -> None:
    """Poll until `check()` is truthy (a bound, not a timing assertion)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def start(root: Path, provider: ScriptedProvider, **inference: object) -> Daemon:
    settings = load_settings(root, {"inference": dict(inference)} if inference else None)
    daemon = Daemon(settings, provider, command="test")  # type: ignore[arg-type]
    await daemon.start()
    return daemon


async def test_edit_while_running_updates_only_edited_symbols(workspace: Path) -> None:
    provider = ScriptedProvider()
    daemon = await start(workspace, provider)
    try:
        assert await daemon.wait_idle(30)
        assert daemon.role == "writer"
        await eventually(lambda: daemon.watcher is not None and daemon.watcher.running)
        assert sum(provider.calls.values()) == 4
        provider.calls.clear()
        provider.version = 2

        path = workspace / "pkg/session.py"
        path.write_text(path.read_text().replace("raise KeyError(name)", "return ''"))

        async def updated() -> bool:
            assert daemon.engine is not None
            rec = (await daemon.engine.store.symbols_by_qualified_name("load_token"))[0]
            return rec.sir is not None and rec.sir.intent.endswith("v2.")

        await eventually(updated)
        assert dict(provider.calls) == {"load_token": 1}

        # a new file and a deleted file are picked up too
        write(workspace, "pkg/more.py", "def more():\n    return 2\n")
        await eventually(lambda: provider.calls.get("more") == 1)
        (workspace / "pkg/more.py").unlink()

        async def gone() -> bool:
            assert daemon.engine is not None
            return not await daemon.engine.store.symbols_by_qualified_name("more")

        await eventually(gone)
    finally:
        await daemon.stop()


async def test_many_changes_are_one_batch(workspace: Path) -> None:
    provider = ScriptedProvider()
    daemon = await start(workspace, provider)
    try:
        assert await daemon.wait_idle(30)
        await eventually(lambda: daemon.watcher is not None and daemon.watcher.running)
        assert daemon.watcher is not None
        batches_before = daemon.watcher.batches
        for i in range(300):  # like a git checkout
            write(workspace, f"gen/m{i}.py", f"def f{i}():\n    return {i}\n")

        async def all_there() -> bool:
            assert daemon.engine is not None
            return (await daemon.engine.store.counts()).file_count == 301

        await eventually(all_there, 60)
        await eventually(lambda: sum(1 for k in provider.calls if k.startswith("f")) == 300, 60)
        assert daemon.watcher.batches - batches_before <= 3
    finally:
        await daemon.stop()


async def test_one_writer_reader_hands_work_over_and_takes_over(workspace: Path) -> None:
    provider_a, provider_b = ScriptedProvider(), ScriptedProvider()
    a = await start(workspace, provider_a)
    assert await a.wait_idle(30)
    b = await start(workspace, provider_b)
    try:
        assert (a.role, b.role) == ("writer", "reader")
        assert a.engine is not None
        assert (await a.engine.status()).writer["pid"] == os.getpid()  # type: ignore[index]

        # the reader's refresh is done by the writer: only the writer calls its provider
        rec = (await b.engine.store.symbols_by_qualified_name("load_token"))[0]  # type: ignore[union-attr]
        out = await b.refresh([rec.id], wait_s=20)
        assert out[0].sir_status == "ok"
        assert provider_a.calls["load_token"] == 2 and not provider_b.calls

        # the writer goes away: the reader takes over and finishes the queue
        await a.stop()
        await eventually(lambda: b.role == "writer", 15)
        write(workspace, "pkg/late.py", "def late():\n    return 3\n")
        await eventually(lambda: provider_b.calls.get("late") == 1)
        assert "late" not in provider_a.calls
    finally:
        await b.stop()
        await a.stop()


async def test_failed_symbols_heal_on_their_own(workspace: Path) -> None:
    provider = ScriptedProvider()
    provider.fail("provider down")
    daemon = await start(workspace, provider, retry_stale_s=0.3)
    try:
        assert await daemon.wait_idle(30)
        assert daemon.status.stale_count == 4
        provider.fail_with = None  # the outage ends; nobody touches a file

        async def healed() -> bool:
            assert daemon.engine is not None
            return (await daemon.engine.store.counts()).ok_count == 4

        await eventually(healed, 30)
    finally:
        await daemon.stop()


async def test_restart_requeues_from_the_store(workspace: Path) -> None:
    provider = ScriptedProvider()
    provider.fail("provider down")
    daemon = await start(workspace, provider)
    assert await daemon.wait_idle(30)
    await daemon.stop()
    provider.fail_with = None
    provider.calls.clear()
    daemon = await start(workspace, provider)
    try:
        assert await daemon.wait_idle(30)
        assert sum(provider.calls.values()) == 4
        assert daemon.status.stale_count == 0
    finally:
        await daemon.stop()


def _snapshot(db: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("SELECT symbol_id, sir_hash FROM sir"))
    finally:
        conn.close()


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _marker(path: Path) -> tuple[str, int]:
    """What the writer last wrote to its transaction marker: ("in"|"out", transactions begun)."""
    try:
        state, count = path.read_text().split()
    except (OSError, ValueError):
        return "none", 0
    return state, int(count)


def _append_functions(root: Path, rng: random.Random, round_no: int, files: int) -> None:
    """New code at the end of some files: existing symbols keep their ids and SIRs, so the
    "no SIR lost" check stays exact while every round has real writing to do."""
    paths = sorted(root.rglob("*.py"))
    for k, path in enumerate(rng.sample(paths, files)):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\ndef chaos_{round_no}_{k}(value):\n    return value + {k}\n")


@pytest.mark.timeout(600)
def test_kill_9_chaos_loses_nothing(tmp_path: Path, record_property: Callable[..., None]
                                    ) -> None:
    """Bounded: 20 kills, each aimed inside a write transaction (files, symbols, SIRs). The
    writer reports through a marker file when it is inside one (AETHER_TEST_TXN_MARKER) and
    holds each open briefly (AETHER_TEST_TXN_HOLD_S); a kill counts as mid-write when the
    marker still says "in" after the process is dead. A clean index of the final tree is the
    reference."""
    stdlib = Path(os.path.dirname(os.__file__))
    work, ref = tmp_path / "work", tmp_path / "ref"
    for pkg in ("json", "email", "asyncio", "logging", "importlib"):
        shutil.copytree(stdlib / pkg, work / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "txn"
    env = {**os.environ, "AETHER_INDEX_WORKERS": "1", "AETHER_TEST_TXN_MARKER": str(marker),
           "AETHER_TEST_TXN_HOLD_S": "0.05"}
    cmd = [sys.executable, "-m", "aether"]
    db = work / ".aether/aether.db"
    rng = random.Random(1234)
    before: set[tuple[str, str]] = set()
    kills = mid_write = 0
    for round_no in range(20):
        if round_no:
            _append_functions(work, rng, round_no, 12)
        marker.unlink(missing_ok=True)
        target = rng.randint(1, 3) if round_no == 0 else 1  # the cold index has many batches
        proc = subprocess.Popen([*cmd, "watch", "--workspace", str(work)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            state, count = _marker(marker)
            if state == "in" and count >= target:
                break
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))  # somewhere inside the 50 ms the transaction lasts
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        mid_write += _marker(marker)[0] == "in"
        if db.exists():
            assert _integrity(db) == "ok"
            after = _snapshot(db)
            assert before <= after  # no SIR that existed before a kill is missing
            before = after
    record_property("mid_write_kills", f"{mid_write}/{kills}")
    print(f"chaos: {mid_write} of {kills} kills landed inside a write transaction")
    assert mid_write >= kills * 3 // 4, f"only {mid_write} of {kills} kills landed mid-write"

    plain = {k: v for k, v in env.items() if not k.startswith("AETHER_TEST_")}
    subprocess.run([*cmd, "index", "--workspace", str(work)], check=True, env=plain,
                   capture_output=True, timeout=300)
    shutil.copytree(work, ref, ignore=shutil.ignore_patterns(".aether"))
    subprocess.run([*cmd, "index", "--workspace", str(ref)], check=True, env=plain,
                   capture_output=True, timeout=300)
    assert _integrity(db) == "ok"
    assert _snapshot(db) == _snapshot(ref / ".aether/aether.db")
