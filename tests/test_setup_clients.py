"""`aether setup` against fixture configuration files of every client it knows: other
servers and settings kept, a backup made, a second run changes nothing, a malformed file is
a clear error and stays byte for byte as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from aether.agents.clients import CLIENTS
from aether.agents.setup import (
    SetupError,
    aether_command,
    apply,
    find_configured,
    plan_setup,
)

EXE = "/opt/venv/bin/aether"


def existing_text(client: str) -> str:
    """A config file as a user might have it: another server and an unrelated setting."""
    c = CLIENTS[client]
    if c.fmt == "toml":
        return ('# my settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "other-mcp"\n'
                'args = ["--flag"]\n')
    return json.dumps({"theme": "dark", c.key: {"other": {"command": "other-mcp",
                                                          "args": ["--flag"]}}}, indent=4)


def load(path: Path, fmt: str) -> dict[str, Any]:
    text = path.read_text()
    return tomllib.loads(text) if fmt == "toml" else json.loads(text)


def target(client: str, scope: str, ws: Path, home: Path) -> Path:
    c = CLIENTS[client]
    if scope == "project":
        assert c.project_file is not None
        return ws / c.project_file
    assert c.user_file is not None
    return c.user_file(home, {})


CASES = [(name, scope) for name, c in CLIENTS.items() for scope in c.scopes]


@pytest.mark.parametrize(("client", "scope"), CASES)
def test_merge_keeps_others_backs_up_and_is_idempotent(tmp_path: Path, client: str,
                                                        scope: str) -> None:
    ws, home = tmp_path / "repo", tmp_path / "home"
    ws.mkdir()
    path = target(client, scope, ws, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    original = existing_text(client)
    path.write_text(original)
    c = CLIENTS[client]

    plan = plan_setup(client, workspace=ws, scope=scope, home=home, env={},  # type: ignore[arg-type]
                      command=(EXE, []))
    assert plan.path == path and plan.changed
    assert plan.diff().count("\n+") >= 2 and path.read_text() == original  # planning writes nothing
    backup = apply(plan)
    assert backup is not None and backup.read_text() == original
    assert backup.parent == path.parent and backup.name.startswith(path.name + ".")

    data = load(path, c.fmt)
    assert data[c.key]["other"] == {"command": "other-mcp", "args": ["--flag"]}
    assert (data.get("theme") or data.get("model")) in ("dark", "o3")
    entry = data[c.key]["aether"]
    assert entry["command"] == EXE
    assert entry["args"][0] == "mcp"
    if scope == "project":
        assert entry["args"] == ["mcp", "--workspace", str(ws.resolve())]
    if c.fmt == "toml":
        assert path.read_text().startswith("# my settings\n")  # comments survive

    again = plan_setup(client, workspace=ws, scope=scope, home=home, env={},  # type: ignore[arg-type]
                       command=(EXE, []))
    assert not again.changed and again.diff() == ""
    assert apply(again) is None
    assert sorted(p.name for p in path.parent.iterdir()
                  if p.name.endswith(".aether-backup")) == [backup.name]


@pytest.mark.parametrize(("client", "scope"), CASES)
def test_malformed_file_is_an_error_and_untouched(tmp_path: Path, client: str,
                                                  scope: str) -> None:
    ws, home = tmp_path / "repo", tmp_path / "home"
    ws.mkdir()
    path = target(client, scope, ws, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    bad = 'model = "o3\n[mcp_servers\n' if CLIENTS[client].fmt == "toml" else '{"a": [1, 2}'
    path.write_text(bad)
    with pytest.raises(SetupError) as err:
        plan_setup(client, workspace=ws, scope=scope, home=home, env={},  # type: ignore[arg-type]
                   command=(EXE, []))
    message = str(err.value)
    assert str(path) in message and "left unchanged" in message and "\n" not in message
    assert path.read_text() == bad
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_new_file_is_created_without_backup(tmp_path: Path) -> None:
    plan = plan_setup("cursor", workspace=tmp_path, home=tmp_path / "h", env={},
                      command=(EXE, []))
    assert plan.before is None and plan.diff().startswith("--- /dev/null")
    assert apply(plan) is None
    assert json.loads((tmp_path / ".cursor/mcp.json").read_text()) == {
        "mcpServers": {"aether": {"command": EXE,
                                  "args": ["mcp", "--workspace", str(tmp_path.resolve())]}}}


def test_user_scope_follows_the_open_project(tmp_path: Path) -> None:
    home = tmp_path / "home"
    args = {name: plan_setup(name, workspace=tmp_path, scope="user", home=home, env={},
                             command=(EXE, [])).entry["args"]
            for name in ("claude", "vscode", "windsurf")}
    assert args["claude"] == ["mcp"]  # Claude Code starts servers in the project folder
    assert args["vscode"] == ["mcp", "--workspace", "${workspaceFolder}"]
    assert args["windsurf"] == ["mcp", "--workspace", str(tmp_path.resolve())]
    pinned = plan_setup("claude", workspace=tmp_path, scope="user", workspace_given=True,
                        home=home, env={}, command=(EXE, []))
    assert pinned.entry["args"] == ["mcp", "--workspace", str(tmp_path.resolve())]


def test_user_keys_in_the_entry_survive_and_a_moved_aether_is_updated(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": {"aether": {
        "command": "/old/aether", "args": ["mcp"], "env": {"AETHER_MODEL": "x"}}}}))
    apply(plan_setup("claude", workspace=tmp_path, home=tmp_path, env={}, command=(EXE, [])))
    entry = json.loads(path.read_text())["mcpServers"]["aether"]
    assert entry["command"] == EXE and entry["env"] == {"AETHER_MODEL": "x"}


def test_jsonc_with_comments_is_read_but_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / ".vscode" / "mcp.json"
    path.parent.mkdir()
    text = '{\n  // my servers\n  "servers": {"other": {"command": "x",},},\n}\n'
    path.write_text(text)
    with pytest.raises(SetupError, match="has comments") as err:
        plan_setup("vscode", workspace=tmp_path, home=tmp_path, env={}, command=(EXE, []))
    assert '"aether"' in str(err.value)  # what to paste by hand
    assert path.read_text() == text
    # Already configured by hand: nothing to change, no error.
    entry = json.dumps({"type": "stdio", "command": EXE,
                        "args": ["mcp", "--workspace", str(tmp_path.resolve())]})
    done = text.replace('"other"', f'"aether": {entry}, "other"')
    path.write_text(done)
    assert not plan_setup("vscode", workspace=tmp_path, home=tmp_path, env={},
                          command=(EXE, [])).changed


def test_scope_and_client_errors(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="unknown client 'emacs'"):
        plan_setup("emacs", workspace=tmp_path)
    with pytest.raises(SetupError, match="Windsurf has no project"):
        plan_setup("windsurf", workspace=tmp_path, scope="project", home=tmp_path, env={})
    other = tmp_path / "elsewhere" / "servers.json"
    plan = plan_setup("mcp-json", workspace=tmp_path, file=other, command=(EXE, []))
    apply(plan)
    assert json.loads(other.read_text())["mcpServers"]["aether"]["command"] == EXE


def test_codex_home_from_the_environment(tmp_path: Path) -> None:
    plan = plan_setup("codex", workspace=tmp_path, scope="user", home=tmp_path / "h",
                      env={"CODEX_HOME": str(tmp_path / "ch")}, command=(EXE, []))
    assert plan.path == tmp_path / "ch" / "config.toml"
    apply(plan)
    assert tomllib.loads(plan.path.read_text())["mcp_servers"]["aether"] == {
        "command": EXE, "args": ["mcp"]}


def test_list_reports_each_file(tmp_path: Path) -> None:
    ws, home = tmp_path / "repo", tmp_path / "home"
    ws.mkdir()
    apply(plan_setup("cursor", workspace=ws, home=home, env={}, command=(EXE, [])))
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text('{"mcpServers": {}}')
    (ws / ".mcp.json").write_text("{oops")
    found = {(f.client.name, f.scope): f for f in find_configured(ws, home=home, env={})}
    assert set(found) == {("cursor", "project"), ("gemini", "user"), ("claude", "project")}
    assert found["cursor", "project"].state == "configured"
    assert found["cursor", "project"].detail.startswith(EXE + " mcp --workspace")
    assert found["gemini", "user"].state == "not configured"
    assert found["claude", "project"].state == "unreadable"


def test_the_command_is_this_environments_aether() -> None:
    exe, lead = aether_command()
    assert Path(exe).is_absolute() and Path(exe).exists()
    # Under pytest argv[0] is not `aether`: the script beside this interpreter is used.
    assert (exe, lead) == (str(Path(sys.executable).parent / "aether"), [])


# ---------------------------------------------------------------- the command, as a process

AETHER = Path(sys.executable).parent / "aether"


def run_aether(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "XDG_CONFIG_HOME")}
    env["HOME"] = str(home)
    return subprocess.run([str(AETHER), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_cli_setup_dry_run_then_write_then_list(tmp_path: Path) -> None:
    ws, home = tmp_path / "repo", tmp_path / "home"
    ws.mkdir()
    home.mkdir()
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text('model = "o3"\n')

    dry = run_aether("setup", "codex", "--user", "--dry-run", cwd=ws, home=home)
    assert dry.returncode == 0, dry.stderr
    assert "+[mcp_servers.aether]" in dry.stdout and config.read_text() == 'model = "o3"\n'

    done = run_aether("setup", "codex", "--user", cwd=ws, home=home)
    assert done.returncode == 0, done.stderr
    entry = tomllib.loads(config.read_text())["mcp_servers"]["aether"]
    assert entry == {"command": str(AETHER), "args": ["mcp"]}  # this venv's aether, not PATH's
    assert "backup of the previous file" in done.stdout

    again = run_aether("setup", "codex", "--user", cwd=ws, home=home)
    assert again.returncode == 0 and "nothing to change" in again.stdout

    listed = run_aether("setup", "--list", cwd=ws, home=home)
    assert listed.returncode == 0
    assert "Codex CLI" in listed.stdout and f"configured: {AETHER} mcp" in listed.stdout

    snippet = run_aether("setup", "--snippet", cwd=ws, home=home)
    assert "aether_search" in snippet.stdout and not (ws / "AGENTS.md").exists()
    assert sorted(p.name for p in ws.iterdir()) == []  # nothing written into the repository


def test_cli_setup_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "mcp.json").write_text("{\"servers\": [1, 2}")
    bad = run_aether("setup", "vscode", cwd=tmp_path, home=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("aether: error: ") and bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
    assert (tmp_path / ".vscode" / "mcp.json").read_text() == "{\"servers\": [1, 2}"
    assert run_aether("setup", cwd=tmp_path, home=tmp_path).returncode == 2
