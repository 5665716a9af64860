"""Crashed processes leave nothing behind: kill -9 of an indexer mid-cold-index must not
leave parse workers, the fork server or the resource tracker running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="needs /proc to find a process's session")


def session_members(sid: int) -> set[int]:
    """Every live process in session `sid` (orphans keep their session when re-parented)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            found.add(int(entry))
    return found


def test_kill_9_mid_cold_index_leaves_no_workers(tmp_path: Path) -> None:
    stdlib = Path(os.path.dirname(os.__file__))
    for pkg in ("json", "email", "asyncio", "logging"):
        shutil.copytree(stdlib / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "AETHER_INDEX_WORKERS": "2",
           # each write batch held open: the pass (and its pool) outlives worker start-up
           "AETHER_TEST_TXN_HOLD_S": "0.5"}
    proc = subprocess.Popen([sys.executable, "-m", "aether", "index", "--workspace",
                             str(tmp_path)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        members: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            members = session_members(proc.pid) - {proc.pid}
            if len(members) >= 4:  # resource tracker, fork server, two workers
                break
            time.sleep(0.05)
        assert len(members) >= 4, f"pool never started ({len(members)} helper processes)"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        left = session_members(proc.pid)
        deadline = time.monotonic() + 20
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = session_members(proc.pid)
        assert not left, f"{len(left)} of {len(members)} helper processes outlived the indexer"
    finally:
        for pid in session_members(proc.pid):
            os.kill(pid, signal.SIGKILL)  # only this test's own session
        if proc.poll() is None:
            proc.kill()
