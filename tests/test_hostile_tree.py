"""Hostile file trees: names that are not UTF-8, FIFOs and sockets named `*.py`, newlines and
tabs in names. Real files, the real `aether` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.daemon import Daemon
from tests.helpers import ScriptedProvider, write
from tests.test_daemon import eventually


def aether(*args: str) -> subprocess.CompletedProcess[str]:
    # timeout: a FIFO read would block forever; the bound turns that into a failure
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, timeout=60)


def write_raw_name(folder: Path, name: bytes, data: bytes) -> None:
    """A file whose name is raw bytes (not necessarily UTF-8)."""
    with open(os.path.join(os.fsencode(folder), name), "wb") as fh:
        fh.write(data)


def hostile_tree(root: Path) -> None:
    write(root, "src/ok.py", "def fine():\n    return 1\n")
    write(root, "src/a\tb.py", "def in_tab_file():\n    return 2\n")
    write(root, "src/new\nline.py", "def in_newline_file():\n    return 3\n")
    (root / "src").mkdir(exist_ok=True)
    write_raw_name(root / "src", b"bad_\xff.py", b"def in_bad_name():\n    return 4\n")
    os.mkfifo(root / "src/zz.py")


def test_index_skips_bad_names_and_fifos_and_escapes_names(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    hostile_tree(root)
    res = aether("index", "--workspace", str(root), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["files_parsed"] == 3 and data["symbol_count"] == 3
    assert data["skip_reasons"] == {"invalid_file_name": 1, "not_regular_file": 1}
    skipped = {s["path"]: s["reason"] for s in data["skipped"]}
    assert skipped == {"src/bad_\\xff.py": "file name is not valid UTF-8",
                       "src/zz.py": "a FIFO, not a regular file"}

    # text output: every name on one line, escaped
    res = aether("index", "--workspace", str(root))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    res = aether("search", "in", "--workspace", str(root), "--limit", "10")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "src/a\\tb.py:1  function in_tab_file" in lines
    assert "src/new\\nline.py:1  function in_newline_file" in lines
    assert not any("bad_" in line for line in lines)
    res = aether("sir", "in_newline_file", "--workspace", str(root))
    assert res.returncode == 0 and res.stdout.splitlines()[0] == (
        "function in_newline_file  (src/new\\nline.py:1-2)")

    res = aether("status", "--workspace", str(root), "--json")
    status = json.loads(res.stdout)
    assert status["skipped_file_count"] == 0  # never stored: such paths cannot be served
    assert status["recent_errors"]["not_regular_file"] >= 1  # recorded, with its reason
    assert status["health"]["status"] == "healthy"  # skipped files are expected, not a fault


def test_socket_named_like_source_is_skipped(tmp_path: Path) -> None:
    root = Path("/tmp") / f"aether-sock-{os.getpid()}"  # AF_UNIX paths are short
    root.mkdir()
    try:
        write(root, "ok.py", "def fine():\n    return 1\n")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(root / "s.py"))
        try:
            res = aether("index", "--workspace", str(root), "--json")
        finally:
            sock.close()
        data = json.loads(res.stdout)
        assert data["symbol_count"] == 1
        assert data["skipped"] == [{"path": "s.py", "reason": "a socket, not a regular file"}]
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)


async def test_daemon_stays_healthy_on_hostile_tree_and_new_fifo(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    hostile_tree(root)
    provider = ScriptedProvider()
    daemon = Daemon(load_settings(root), provider, command="test")  # type: ignore[arg-type]
    await daemon.start()
    try:
        assert await daemon.wait_idle(30)
        assert daemon.status.state == "idle", daemon.status.message
        assert daemon.status.symbol_count == 3
        await eventually(lambda: daemon.watcher is not None and daemon.watcher.running)
        # a FIFO and a bad name arriving while watching: skipped, the rest still indexed
        os.mkfifo(root / "src/late_fifo.py")
        write_raw_name(root / "src", b"late_\xfe.py", b"def late_bad():\n    return 5\n")
        write(root, "src/late_ok.py", "def late_fine():\n    return 6\n")
        await eventually(lambda: provider.calls.get("late_fine") == 1)
        assert await daemon.wait_idle(30)
        assert daemon.status.state == "idle", daemon.status.message
        assert "late_bad" not in provider.calls
        assert daemon.watcher is not None and daemon.watcher.restarts >= 1  # and recovered
    finally:
        await daemon.stop()


@pytest.mark.parametrize("name", ["x.py", "dir/y.py"])
def test_display_path_keeps_plain_names(name: str) -> None:
    from aether.workspace import display_path

    assert display_path(name) == name
    assert display_path("a\x1b[31m.py") == "a\\x1b[31m.py"
