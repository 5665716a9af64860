"""Real headless Neovim against the real `aether lsp`: the code lenses "N callers · SIR …"
appear through the plugin (tests/editors/nvim_lens_test.lua), and :AetherImpact's quickfix
items are built from an `aether.impact` answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.editors.nvim_runner import find_nvim, nvim_version
from tests.test_graph_edges import PY_FILES, make_repo

REPO = Path(__file__).resolve().parent.parent
NVIM = find_nvim()
VERSION = nvim_version(NVIM) if NVIM else None
pytestmark = pytest.mark.skipif(VERSION is None or VERSION < (0, 10, 0),
                                reason="Neovim 0.10+ is not installed (.ci/run installs it)")


def _nvim(tmp: Path, script: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config"),
           "XDG_DATA_HOME": str(tmp / "data"), "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_CACHE_HOME": str(tmp / "cache"),
           "AETHER_TEST_RUNTIME": str(REPO / "editors" / "nvim"), **extra}
    assert NVIM is not None
    return subprocess.run([NVIM, "--headless", "--clean", "-n", "-c", f"luafile {script}"],
                          env=env, cwd=str(tmp), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_code_lenses_show_callers_and_sir_state(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_repo(root, PY_FILES)
    subprocess.run([sys.executable, "-m", "aether", "index", "--workspace", str(root)],
                   check=True, capture_output=True, timeout=120)
    out = tmp_path / "lenses.json"
    script = Path(sys.executable).with_name("aether")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "aether"]
    run = _nvim(tmp_path, REPO / "tests" / "editors" / "nvim_lens_test.lua", {
        "AETHER_TEST_FILE": str(root / "pkg/models.py"),
        "AETHER_TEST_CMD": json.dumps([*cmd, "lsp", "--workspace", str(root)]),
        "AETHER_TEST_OUT": str(out), "AETHER_TEST_TIMEOUT_MS": "60000"})
    assert run.returncode == 0, run.stderr
    assert sorted(map(tuple, json.loads(out.read_text()))) == [
        (3, "1 caller · SIR ok"), (4, "1 caller · SIR ok"), (8, "1 caller · SIR ok"),
        (12, "3 callers · SIR ok")]


def test_impact_quickfix_items_and_commands(tmp_path: Path) -> None:
    script = tmp_path / "check.lua"
    script.write_text("""
vim.opt.runtimepath:append(os.getenv('AETHER_TEST_RUNTIME'))
vim.cmd('runtime plugin/aether.lua')
local items = require('aether').impact_items({
  changed = { { depth = 0, symbol = { qualified_name = 'helper', file_path = 'pkg/m.py',
                                      start_line = 3, sir_status = 'ok' } } },
  callers = { { depth = 1, symbol = { qualified_name = 'run', file_path = 'pkg/u.py',
                                      start_line = 7, sir_status = 'stale',
                                      stale_reason = 'outdated' } } },
}, '/ws')
local out = {}
for _, it in ipairs(items) do
  table.insert(out, { it.filename, it.lnum, it.text })
end
for _, name in ipairs({ 'AetherImpact', 'AetherCallers', 'AetherCallees', 'AetherLens' }) do
  table.insert(out, vim.fn.exists(':' .. name))
end
io.stdout:write(vim.json.encode(out))
vim.cmd('qall!')
""")
    run = _nvim(tmp_path, script, {})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [["/ws/pkg/m.py", 3, "helper (changed)"],
                                      ["/ws/pkg/u.py", 7, "run (caller, depth 1) · SIR outdated"],
                                      2, 2, 2, 2]
