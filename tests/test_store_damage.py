"""A damaged store: `.aether` deleted under a running daemon, pages corrupted on disk, garbage
files, read-only workspaces, folders never indexed. Real files, real daemons, the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.daemon import Daemon
from aether.engine.engine import Engine
from aether.store.db import Store, StoreError
from tests.helpers import ScriptedProvider, write
from tests.test_daemon import eventually


def aether(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


async def start(root: Path, provider: ScriptedProvider) -> Daemon:
    daemon = Daemon(load_settings(root), provider, command="test")  # type: ignore[arg-type]
    await daemon.start()
    return daemon


def corrupt_table(db: Path, table: str) -> None:
    """Overwrite the root page of `table` with garbage; the header page stays intact."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page)
        fh.write(b"\xde\xad\xbe\xef" * (page // 4))


async def test_deleted_store_is_recreated_and_reindexed(workspace: Path) -> None:
    provider = ScriptedProvider()
    a = await start(workspace, provider)
    try:
        assert await a.wait_idle(30) and a.role == "writer"
        assert a.engine is not None
        shutil.rmtree(workspace / ".aether")
        status = await a.engine.status()
        if a.recreations == 0:  # not yet noticed by the health tick: never healthy meanwhile
            assert status.health.status == "unhealthy"
            assert any("deleted" in r for r in status.health.reasons)
        await eventually(lambda: a.recreations == 1, 15)
        assert await a.wait_idle(30)

        async def reindexed() -> bool:
            assert a.engine is not None
            return (await a.engine.store.counts()).symbol_count == 4

        await eventually(reindexed)
        assert (workspace / ".aether/aether.db").exists()
        assert (workspace / ".aether/.gitignore").exists()
        assert a.role == "writer" and a.lock.problem() is None
        assert (await a.engine.status()).health.status == "healthy"
        # a second process now is a reader: still one writer
        b = await start(workspace, ScriptedProvider())
        try:
            assert b.role == "reader"
        finally:
            await b.stop()
    finally:
        await a.stop()


async def test_deleted_store_never_two_writers(workspace: Path) -> None:
    """A second process arrives right after the delete and takes the (new) lock first: the
    old writer must step down, and only the new one writes."""
    provider_a, provider_b = ScriptedProvider(), ScriptedProvider()
    a = await start(workspace, provider_a)
    try:
        assert await a.wait_idle(30) and a.role == "writer"
        shutil.rmtree(workspace / ".aether")
        b = await start(workspace, provider_b)
        try:
            assert b.role == "writer"
            # the old writer notices at its next health tick and steps down
            await eventually(lambda: a.role == "reader" and a.recreations == 1
                             and a.status.role == "reader", 15)
            assert b.role == "writer"
            assert await b.wait_idle(30)
            write(workspace, "pkg/late.py", "def late():\n    return 3\n")
            await eventually(lambda: provider_b.calls.get("late") == 1)
            assert "late" not in provider_a.calls
            assert a.engine is not None and a.engine.store.identity_problem() is None
        finally:
            await b.stop()
    finally:
        await a.stop()


async def test_damaged_database_reported_then_repaired_reusing_sirs(workspace: Path) -> None:
    write(workspace, "pkg/extra.py", "def extra():\n    return 1\n\n\ndef other():\n    return 2\n")
    provider = ScriptedProvider()
    daemon = await start(workspace, provider)
    assert await daemon.wait_idle(30)
    await daemon.stop()
    assert sum(provider.calls.values()) == 6
    db = workspace / ".aether/aether.db"
    corrupt_table(db, "symbols")

    res = aether("status", "--workspace", str(workspace), "--json")
    assert res.returncode == 0, res.stderr
    health = json.loads(res.stdout)["health"]
    assert health["status"] == "unhealthy"
    assert any("damaged" in r for r in health["reasons"])
    for args in (("search", "send"), ("sir", "load_token")):
        res = aether(*args, "--workspace", str(workspace))
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert res.stderr.count("\n") == 1 and "damaged" in res.stderr

    # a writer repairs by itself; every SIR was salvaged, so no inference is paid again
    provider.calls.clear()
    daemon = await start(workspace, provider)
    try:
        assert await daemon.wait_idle(30)
        await eventually(lambda: daemon.repairs == 1)
        assert await daemon.wait_idle(30)
        assert daemon.engine is not None
        counts = await daemon.engine.store.counts()
        assert (counts.symbol_count, counts.ok_count) == (6, 6)
        assert sum(provider.calls.values()) == 0
        assert (await daemon.engine.status()).health.status == "healthy"
        assert len(list((workspace / ".aether").glob("aether.db.corrupt-*[0-9TZ]"))) == 1
    finally:
        await daemon.stop()


def test_garbage_and_truncated_files_are_repaired_by_doctor(workspace: Path) -> None:
    assert aether("index", "--workspace", str(workspace)).returncode == 0
    db = workspace / ".aether/aether.db"
    for damage in ("garbage", "truncated"):
        if damage == "garbage":
            db.write_bytes(b"this is not a database " * 200)
        else:
            data = db.read_bytes()
            db.write_bytes(data[: len(data) // 3])
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        res = aether("status", "--workspace", str(workspace), "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["health"]["status"] == "unhealthy", damage
        res = aether("doctor", "--workspace", str(workspace), "--json")
        assert res.returncode == 0, res.stderr
        report = json.loads(res.stdout)
        assert report["result"] == "repaired" and Path(report["moved_to"]).exists()
        assert report["symbol_count"] == 4 and report["sir_ok"] == 4
        res = aether("doctor", "--workspace", str(workspace), "--json")
        assert json.loads(res.stdout)["result"] == "ok"
    res = aether("status", "--workspace", str(workspace), "--json")
    assert json.loads(res.stdout)["health"]["status"] == "healthy"


def test_status_in_a_folder_never_indexed_creates_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "def a():\n    return 1\n")
    res = aether("status", "--workspace", str(tmp_path))
    assert res.returncode == 0 and "not indexed" in res.stdout
    res = aether("status", "--workspace", str(tmp_path), "--json")
    assert json.loads(res.stdout)["health"]["status"] == "not_indexed"
    res = aether("search", "a", "--workspace", str(tmp_path))
    assert res.returncode == 2 and "not indexed" in res.stderr
    assert not (tmp_path / ".aether").exists()


def test_state_dir_flag_and_env_keep_the_workspace_clean(tmp_path: Path) -> None:
    ws, state = tmp_path / "ws", tmp_path / "state"
    write(ws, "a.py", "def a():\n    return 1\n")
    res = aether("index", "--workspace", str(ws), "--state-dir", str(state))
    assert res.returncode == 0, res.stderr
    assert (state / "aether.db").exists() and not (ws / ".aether").exists()
    res = aether("status", "--workspace", str(ws), "--json",
                 env={"AETHER_STATE_DIR": str(state)})
    data = json.loads(res.stdout)
    assert data["db_path"] == str(state / "aether.db") and data["symbol_count"] == 1
    assert not (ws / ".aether").exists()


async def test_read_only_store_serves_reads_and_says_so(workspace: Path) -> None:
    assert aether("index", "--workspace", str(workspace)).returncode == 0
    settings = load_settings(workspace)
    store = await Store.open(settings.db_path, read_only=True)
    engine = Engine(settings, store, ScriptedProvider())  # type: ignore[arg-type]
    try:
        assert (await engine.resolve("load_token")).qualified_name == "load_token"
        status = await engine.status()
        assert status.read_only and status.symbol_count == 4
        assert status.health.status == "degraded"
        assert any("read-only" in r for r in status.health.reasons)
        with pytest.raises(StoreError, match="read-only"):
            await store.set_meta("x", "y")
    finally:
        await engine.close()


REPO = Path(__file__).resolve().parent.parent


def _unprivileged() -> tuple[str, dict[str, str], int | None] | None:
    """How to run `python -m aether` as a user that file permissions bind: this process's
    own user when it is not root; as root, user `nobody` with an interpreter nobody can run
    (this one, or the system's of the same version with our site-packages), else None."""
    if os.geteuid() != 0:
        return sys.executable, {}, None
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), *site]), "HOME": "/tmp"}
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for exe in (sys.executable, f"/usr/bin/python{version}"):
        try:
            probe = subprocess.run([exe, "-c", "import aether.cli.main"], user=65534,
                                   env={**os.environ, **env}, cwd="/", capture_output=True,
                                   timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return exe, env, 65534
    return None


def test_read_only_workspace_by_permissions() -> None:
    runner = _unprivileged()
    if runner is None:
        pytest.skip("running as root with no interpreter the user nobody may run: file "
                    "permissions cannot make a folder read-only for this test")
    exe, env, user = runner
    base = Path(tempfile.mkdtemp(prefix="aether-ro-"))
    base.chmod(0o777)  # the unprivileged user creates its cache and config here
    env = {**env, **{k: str(base / k.lower()) for k in
                     ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")}}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "-m", "aether", *args], user=user, cwd=str(base),
                              env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=120)

    ws = base / "ws"
    write(ws, "a.py", "def a():\n    return 1\n")
    try:
        ws.chmod(0o555)
        res = run("status", "--workspace", str(ws), "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["health"]["status"] == "not_indexed"
        res = run("index", "--workspace", str(ws))
        assert res.returncode == 0, res.stderr
        assert not (ws / ".aether").exists()  # state went to the cache folder instead
        assert len(list((base / "xdg_cache_home/aether").glob("ws-*/aether.db"))) == 1
        res = run("status", "--workspace", str(ws), "--json")
        assert json.loads(res.stdout)["symbol_count"] == 1

        # an index that ships inside a read-only checkout is served read-only, saying so
        ws.chmod(0o755)
        assert aether("index", "--workspace", str(ws)).returncode == 0
        write(ws, "b.py", "def b():\n    return 2\n")
        for p in (ws / ".aether", ws):
            for child in p.rglob("*"):
                child.chmod(0o555 if child.is_dir() else 0o444)
            p.chmod(0o555)
        res = run("status", "--workspace", str(ws), "--json")
        data = json.loads(res.stdout)
        assert data["read_only"] and data["symbol_count"] == 1
        assert data["health"]["status"] == "degraded"
        res = run("search", "a", "--workspace", str(ws))
        assert res.returncode == 0 and "a.py:1" in res.stdout
        res = run("index", "--workspace", str(ws))
        assert res.returncode == 2 and "read-only" in res.stderr and "--state-dir" in res.stderr
        assert res.stderr.count("\n") == 1
        res = run("doctor", "--workspace", str(ws), "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["result"] == "ok"
    finally:
        subprocess.run(["chmod", "-R", "u+rwX", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)
