"""The `aether` command as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import write


def aether(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_index_search_sir_status(workspace: Path) -> None:
    ws = str(workspace)
    res = aether("index", "--workspace", ws)
    assert res.returncode == 0, res.stderr
    assert "symbols  4" in res.stdout and "4 ok / 0 stale / 0 pending" in res.stdout

    res = aether("search", "send", "--workspace", ws, "--json")
    data = json.loads(res.stdout)
    assert data["mode_used"] == "hybrid" and data["result_count"] >= 1
    top = data["matches"][0]
    assert top["qualified_name"] == "Session.send"
    assert set(top) >= {"symbol_id", "qualified_name", "kind", "file_path", "language",
                        "start_line", "end_line", "sir_status", "summary"}

    res = aether("sir", "pkg/session.py:16", "--workspace", ws, "--json")
    sir = json.loads(res.stdout)
    assert sir["qualified_name"] == "Session.send" and sir["sir_status"] == "ok"
    assert sir["sir"]["intent"].startswith("Send a request")
    assert set(sir) >= {"symbol_id", "qualified_name", "kind", "file_path", "language",
                        "start_line", "end_line", "sir", "sir_status", "last_error",
                        "last_attempt_at", "sir_hash", "provider", "model", "updated_at"}

    res = aether("status", "--json", cwd=workspace)  # default workspace: cwd
    status = json.loads(res.stdout)
    assert status["symbol_count"] == 4 and status["stale_count"] == 0
    assert status["health"]["status"] == "healthy"
    assert set(status) >= {"schema_version", "workspace", "db_path", "symbol_count",
                           "sir_count", "stale_count", "file_count", "last_indexed_at",
                           "health"}


def test_bad_input_gives_one_line_errors(tmp_path: Path, workspace: Path) -> None:
    res = aether("status", "--workspace", str(tmp_path / "missing"))
    assert res.returncode != 0 and res.stderr.count("\n") == 1
    assert "no such workspace" in res.stderr

    aether("index", "--workspace", str(workspace))
    res = aether("sir", "Nope", "--workspace", str(workspace))
    assert res.returncode != 0 and "unknown symbol: Nope" in res.stderr

    res = aether("sir", "../../etc/passwd:1", "--workspace", str(workspace))
    assert res.returncode != 0 and "outside the workspace" in res.stderr

    write(workspace, ".aether/config.toml", "[inference]\nprovider = 'nonsense'\n")
    res = aether("status", "--workspace", str(workspace))
    assert res.returncode != 0 and "inference.provider" in res.stderr
    assert res.stderr.count("\n") == 1

    write(workspace, ".aether/config.toml", "[inference\n")
    res = aether("status", "--workspace", str(workspace))
    assert res.returncode != 0 and "not valid TOML" in res.stderr


def test_config_created_with_defaults_and_never_overwritten(workspace: Path) -> None:
    aether("status", "--workspace", str(workspace))  # reads only: creates nothing
    assert not (workspace / ".aether").exists()
    aether("index", "--workspace", str(workspace))
    cfg = workspace / ".aether/config.toml"
    assert "[inference]" in cfg.read_text() and '# provider = "static"' in cfg.read_text()
    cfg.write_text("[inference]\nmax_concurrency = 3\n")
    aether("index", "--workspace", str(workspace))
    assert cfg.read_text() == "[inference]\nmax_concurrency = 3\n"


def test_unbuilt_provider_fails_attempts_as_stale(workspace: Path) -> None:
    res = aether("index", "--workspace", str(workspace), "--provider", "openai",
                 "--endpoint", "http://127.0.0.1:9", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["sir_stale"] == data["symbol_count"] == 4


def test_status_lists_files_no_language_covers(workspace: Path) -> None:
    write(workspace, "docs/guide.md", "# Guide\n")
    write(workspace, "docs/api.md", "# API\n")
    write(workspace, "build.gradle", "apply plugin: 'java'\n")
    write(workspace, "Makefile", "all:\n\ttrue\n")
    write(workspace, "src/Main.java", "class Main { void run() {} }\n")
    write(workspace, "node_modules/dep/readme.md", "ignored folder\n")
    write(workspace, ".env", "SECRET=1\n")
    assert aether("index", "--workspace", str(workspace)).returncode == 0
    status = json.loads(aether("status", "--json", "--workspace", str(workspace)).stdout)
    assert status["unsupported_files"] == {".md": 2, ".gradle": 1, "Makefile": 1}
    assert status["symbol_count"] == 6  # the fixture's 4 + Main and Main.run
    text = aether("status", "--workspace", str(workspace)).stdout
    assert "not indexed 4 files with no supported language: .md 2, .gradle 1, Makefile 1" \
        in text
