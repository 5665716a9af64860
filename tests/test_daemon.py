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


@pytest.mark.timeout(600)
def test_kill_9_chaos_loses_nothing(tmp_path: Path) -> None:
    """Bounded: 20 kills. A clean run on an identical copy is the reference."""
    stdlib = Path(os.path.dirname(os.__file__))
    src = tmp_path / "src"
    for pkg in ("json", "email", "asyncio", "logging", "importlib"):
        shutil.copytree(stdlib / pkg, src / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    ref, work = tmp_path / "ref", tmp_path / "work"
    shutil.copytree(src, ref)
    shutil.copytree(src, work)
    env = {**os.environ, "AETHER_INDEX_WORKERS": "1"}
    cmd = [sys.executable, "-m", "aether"]
    subprocess.run([*cmd, "index", "--workspace", str(ref)], check=True, env=env,
                   capture_output=True, timeout=300)
    db = work / ".aether/aether.db"
    rng = random.Random(1234)
    before: set[tuple[str, str]] = set()
    for _ in range(20):
        proc = subprocess.Popen([*cmd, "watch", "--workspace", str(work)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if db.exists():
            assert _integrity(db) == "ok"
            after = _snapshot(db)
            assert before <= after  # no SIR that existed before a kill is missing
            before = after
    subprocess.run([*cmd, "index", "--workspace", str(work)], check=True, env=env,
                   capture_output=True, timeout=300)
    assert _integrity(db) == "ok"
    assert _snapshot(db) == _snapshot(ref / ".aether/aether.db")
