"""What a daemon does not load until it is used: rapidfuzz (name suggestions) and tomlkit
(`aether setup`) cost an idle `aether mcp` ~4 MB of its memory from the start. Checked on
the real server (its mapped libraries, from /proc) and on the surfaces' imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_mcp import REPO, connect, ok, wait_idle

LAZY = ("rapidfuzz", "tomlkit")


def test_no_surface_imports_what_it_loads_on_first_use() -> None:
    script = ("import sys, aether.cli.main, aether.mcp.server, aether.lsp.server, aether.watch\n"
              f"print(','.join(m for m in {LAZY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def _server_pid(workspace: Path) -> int:
    """The `aether mcp` child the SDK's stdio client started for this test's workspace."""
    todo, found = [os.getpid()], []
    for _ in range(1000):  # bounded walk of this test's process tree
        if not todo:
            break
        pid = todo.pop()
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                todo.append(kid)
                cmd = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")
                if b"mcp" in cmd and str(workspace).encode() in cmd:
                    found.append(kid)
    assert len(found) == 1, found
    return found[0]


def _mapped(pid: int, name: str) -> int:
    """Mappings of the process backed by a file of the `name` package."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return sum(1 for line in lines if f"/{name}/" in line)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
async def test_mcp_loads_rapidfuzz_only_for_a_suggestion(workspace: Path) -> None:
    async with connect(workspace) as session:
        await wait_idle(session)
        pid = _server_pid(workspace)
        assert _mapped(pid, "tree_sitter") > 0  # the check sees what a daemon loaded
        found = await ok(session, "aether_search", {"query": "token"})
        assert found["result_count"] >= 1 and found["suggestions"] == []
        assert _mapped(pid, "rapidfuzz") == 0
        typo = await ok(session, "aether_symbol_lookup", {"name": "load_tokn"})
        assert "did you mean: load_token" in typo["note"]
        assert _mapped(pid, "rapidfuzz") > 0
