"""Real headless Neovim against the real `aether lsp`: the stale banner and a fresh intent
show in the normal hover, through both the 0.11+ config and the older setup() path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.nvim_runner import find_nvim, nvim_version, run_hover
from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config

NVIM = find_nvim()
VERSION = nvim_version(NVIM) if NVIM else None
pytestmark = pytest.mark.skipif(NVIM is None,
                                reason="Neovim is not installed (.ci/run installs it)")
MODES = ["setup", pytest.param("native", marks=pytest.mark.skipif(
    VERSION is None or VERSION < (0, 11, 0), reason="lsp/aether.lua needs Neovim 0.11+"))]


def _server_cmd(root: Path) -> list[str]:
    script = Path(sys.executable).with_name("aether")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "aether"]
    # The runner gives Neovim fresh XDG folders; the server keeps the test's own, where the
    # workspace config was trusted (else it would fall back to the static provider).
    keep = [f"{var}={os.environ[var]}" for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")
            if var in os.environ]
    return ["env", *keep, *base, "lsp", "--workspace", str(root)]


@pytest.fixture
def stale_workspace(workspace: Path) -> Iterator[Path]:
    """load_token: edited on disk, last attempt failed (stale); Session.send: fresh."""
    with FakeProvider(default="ok") as fake:
        settings = {"provider": "openai", "endpoint": fake.endpoint("openai"),
                    "model": "fake-1", "max_attempts": 1, "timeout_s": 5.0, "deadline_s": 5.0,
                    "breaker_threshold": 100, "requests_per_minute": 100000.0}
        trusted_config(workspace, "inference", settings)
        index = [sys.executable, "-m", "aether", "index", "--workspace", str(workspace)]
        subprocess.run(index, check=True, capture_output=True, timeout=120)
        path = workspace / "pkg/session.py"
        path.write_text(path.read_text().replace("raise KeyError(name)", "return ''"))
        fake.set_default("503")
        subprocess.run(index, check=True, capture_output=True, timeout=120)
        yield workspace


def _line(root: Path, needle: str) -> int:
    lines = (root / "pkg/session.py").read_text().splitlines()
    return next(i for i, text in enumerate(lines) if needle in text)  # 0-based


@pytest.mark.parametrize("mode", MODES)
def test_stale_banner_and_fresh_intent_in_neovim_hover(stale_workspace: Path, mode: str) -> None:
    root = stale_workspace
    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "PATH": os.environ.get("PATH", "")}
    run = run_hover(root / "pkg/session.py", _line(root, "def load_token"), 6,
                    _server_cmd(root), mode=mode, window=True,
                    expect="this summary is stale", extra_env=env)
    assert run.ok, run.explain()
    assert run.markdown is not None
    first = run.markdown.splitlines()[0]
    assert first.startswith("⚠ AETHER: this summary is stale — the last attempt")
    assert "503" in first
    assert run.window and any("AETHER: this summary is stale" in w for w in run.window)

    run = run_hover(root / "pkg/session.py", _line(root, "def send"), 9, _server_cmd(root),
                    mode=mode, expect="**Intent:**", extra_env=env)
    assert run.ok, run.explain()
    assert run.markdown is not None and "⚠" not in run.markdown
    assert "Summarises Session.send" in run.markdown
