"""The MCP clients `aether setup` knows: where each keeps its MCP configuration, in which
format, under which key, and the shape of one stdio server entry. Every location and shape
is taken from that client's own documentation (cited beside it); when a client changes its
format, this table is the one place to change."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Format = Literal["json", "jsonc", "toml"]
Scope = Literal["user", "project"]

# How a user-scope entry names "the project the client has open" when no --workspace is
# given: "cwd" = the client starts servers in the project folder (so `aether mcp` needs no
# --workspace), a string = the client's own variable for it, None = no way: pin a folder.
ProjectRef = Literal["cwd"] | str | None

Entry = Callable[[str, list[str]], dict[str, Any]]


@dataclass(frozen=True)
class Client:
    name: str
    title: str
    fmt: Format
    key: str  # the top-level table that maps server names to entries
    entry: Entry
    project_file: str | None  # workspace-relative; None: the client has no project scope
    user_file: Callable[[Path, Mapping[str, str]], Path] | None
    user_project_ref: ProjectRef = "cwd"
    note: str = ""

    @property
    def scopes(self) -> tuple[Scope, ...]:
        found: list[Scope] = []
        if self.project_file is not None:
            found.append("project")
        if self.user_file is not None:
            found.append("user")
        return tuple(found)


def _stdio(command: str, args: list[str]) -> dict[str, Any]:
    return {"command": command, "args": args}


def _typed_stdio(command: str, args: list[str]) -> dict[str, Any]:
    return {"type": "stdio", "command": command, "args": args}


def _config_dir(home: Path, env: Mapping[str, str]) -> Path:
    """The per-user configuration folder of desktop apps on this platform."""
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    if os.name == "nt":
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming")
    return Path(env.get("XDG_CONFIG_HOME") or home / ".config")


def _vscode_user(home: Path, env: Mapping[str, str]) -> Path:
    return _config_dir(home, env) / "Code" / "User" / "mcp.json"


def _zed_user(home: Path, env: Mapping[str, str]) -> Path:
    # Zed keeps ~/.config/zed on macOS too; %APPDATA%\Zed on Windows.
    if os.name == "nt":
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "Zed" / "settings.json"
    return Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "zed" / "settings.json"


CLIENTS: dict[str, Client] = {c.name: c for c in (
    # Claude Code (code.claude.com/docs/en/mcp, "MCP installation scopes"): project scope is
    # `.mcp.json` at the project root, user scope the top-level `mcpServers` of
    # `~/.claude.json`; entries {"type": "stdio", "command", "args", "env"}. Claude Code
    # starts servers in the project folder.
    Client("claude", "Claude Code", "json", "mcpServers", _typed_stdio, ".mcp.json",
           lambda home, env: home / ".claude.json"),
    # Codex CLI (developers.openai.com/codex/mcp): `[mcp_servers.<name>]` tables with
    # `command` and `args` in `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`), or
    # `.codex/config.toml` in a project Codex trusts.
    Client("codex", "Codex CLI", "toml", "mcp_servers", _stdio, ".codex/config.toml",
           lambda home, env: Path(env.get("CODEX_HOME") or home / ".codex") / "config.toml",
           note="Codex reads a project's .codex/config.toml only once you trust the project"),
    # Cursor (cursor.com/docs/mcp): `.cursor/mcp.json` in the project or `~/.cursor/mcp.json`,
    # `mcpServers` with `command`/`args`; values may use ${workspaceFolder}.
    Client("cursor", "Cursor", "json", "mcpServers", _stdio, ".cursor/mcp.json",
           lambda home, env: home / ".cursor" / "mcp.json",
           user_project_ref="${workspaceFolder}"),
    # VS Code, Copilot agent mode (code.visualstudio.com/docs/copilot/reference/
    # mcp-configuration): `.vscode/mcp.json` or `mcp.json` in the user profile, a top-level
    # `servers` object, entries {"type": "stdio", "command", "args"}; JSON with comments;
    # ${workspaceFolder} is substituted.
    Client("vscode", "VS Code (Copilot agent mode)", "jsonc", "servers", _typed_stdio,
           ".vscode/mcp.json", _vscode_user, user_project_ref="${workspaceFolder}"),
    # Windsurf (docs.windsurf.com/windsurf/cascade/mcp): one per-user file,
    # `~/.codeium/windsurf/mcp_config.json`, `mcpServers` with `command`/`args`.
    Client("windsurf", "Windsurf", "json", "mcpServers", _stdio, None,
           lambda home, env: home / ".codeium" / "windsurf" / "mcp_config.json",
           user_project_ref=None),
    # Zed (zed.dev/docs/ai/mcp): `context_servers` in settings.json (user:
    # ~/.config/zed/settings.json; project: .zed/settings.json), entries with `command`,
    # `args`, `env`; settings are JSON with comments.
    Client("zed", "Zed", "jsonc", "context_servers", _stdio, ".zed/settings.json", _zed_user,
           user_project_ref=None),
    # Gemini CLI (geminicli.com/docs/tools/mcp-server): `mcpServers` in
    # `~/.gemini/settings.json` or the project's `.gemini/settings.json`, `command`/`args`;
    # servers start in the folder Gemini CLI runs in.
    Client("gemini", "Gemini CLI", "json", "mcpServers", _stdio, ".gemini/settings.json",
           lambda home, env: home / ".gemini" / "settings.json"),
    # Any other client that reads the de-facto `mcp.json` shape ({"mcpServers": {name:
    # {"command", "args"}}}, as Claude Desktop, Cline and Copilot's portable `.mcp.json`
    # do): the project's `.mcp.json`, or any file named with --file.
    Client("mcp-json", "generic mcp.json", "json", "mcpServers", _stdio, ".mcp.json", None),
)}
