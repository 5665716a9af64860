"""`aether setup`: point an MCP client at this AETHER, by writing or merging that client's
own configuration file. The rules, because these are the user's files:
- never clobber: other servers, other settings and keys a user added to the `aether` entry
  stay; a file we cannot parse is an error and stays untouched;
- a backup of every file changed, beside it (`NAME.TIMESTAMP.aether-backup`); writes are
  atomic (temporary file + rename), so a crash leaves the old file or the new one;
- idempotent: a second run finds nothing to change and writes nothing;
- the command is the absolute path of the `aether` running now (the venv's), never a bare
  `aether` resolved through whatever PATH the client happens to have.
The CLI only parses flags and prints what `plan_setup`, `apply` and `find_configured` return."""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from aether.agents.clients import CLIENTS, Client, Scope
from aether.agents.config_files import ConfigDoc, SetupError, entry_text

__all__ = ["CLIENTS", "Found", "Plan", "SetupError", "aether_command", "apply",
           "find_configured", "plan_setup"]


def aether_command() -> tuple[str, list[str]]:
    """The running `aether` as (absolute command, leading args): the console script this
    process was started as, else the one beside this interpreter, else `python -m aether`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and Path(argv0).name in ("aether", "aether.exe") and Path(argv0).is_file():
        # abspath, not resolve(): a pipx-style symlink keeps working across upgrades.
        return os.path.abspath(argv0), []
    beside = Path(sys.executable).parent / ("aether.exe" if os.name == "nt" else "aether")
    if beside.is_file():
        return str(beside), []
    return os.path.abspath(sys.executable), ["-m", "aether"]


@dataclass(frozen=True)
class Plan:
    """What `apply` would write: the file, its text now (None: no file yet) and after."""

    client: Client
    scope: Scope | Literal["file"]
    path: Path
    before: str | None
    after: str
    entry: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the change ('' when there is none)."""
        if not self.changed:
            return ""
        old = (self.before or "").splitlines(keepends=True)
        new = self.after.splitlines(keepends=True)
        return "".join(difflib.unified_diff(
            old, new, fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path)))


def _client(name: str) -> Client:
    client = CLIENTS.get(name)
    if client is None:
        raise SetupError(f"unknown client {name!r}; one of: {', '.join(CLIENTS)}")
    return client


def _read(path: Path) -> str | None:
    if not path.exists():
        return None
    if not path.is_file():
        raise SetupError(f"{path} is not a regular file; it was left unchanged")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SetupError(f"{path} is not UTF-8 text; it was left unchanged") from None
    except OSError as exc:
        raise SetupError(f"{path} cannot be read ({exc.strerror or exc})") from None


def _config_file(client: Client, scope: Scope, workspace: Path, home: Path,
                 env: Mapping[str, str]) -> Path:
    """Where `client` keeps its MCP servers for `scope` (one of `client.scopes`)."""
    if scope == "project":
        assert client.project_file is not None
        return workspace / client.project_file
    assert client.user_file is not None
    return client.user_file(home, env)


def _server_args(client: Client, scope: Scope | Literal["file"], workspace: Path,
                 workspace_given: bool) -> list[str]:
    """`aether mcp` and how it finds its workspace: a project file names its own folder; a
    user-wide file follows whatever project the client has open when the client can say so
    (its cwd or its own variable), and otherwise, or with --workspace, names one folder."""
    if scope == "user" and not workspace_given and client.user_project_ref is not None:
        if client.user_project_ref == "cwd":
            return ["mcp"]
        return ["mcp", "--workspace", client.user_project_ref]
    return ["mcp", "--workspace", str(workspace)]


def plan_setup(client_name: str, *, workspace: Path, scope: Scope | None = None,
               workspace_given: bool = False, file: Path | None = None,
               home: Path | None = None, env: Mapping[str, str] | None = None,
               command: tuple[str, list[str]] | None = None) -> Plan:
    """What configuring `client_name` would change. `scope` None = the project file when the
    client has one, else the user's; `file` overrides the location altogether."""
    client = _client(client_name)
    home = home if home is not None else Path.home()
    env = env if env is not None else os.environ
    workspace = workspace.expanduser().resolve()
    where: Scope | Literal["file"]
    if file is not None:
        path, where = file.expanduser().absolute(), "file"
    else:
        where = scope or client.scopes[0]
        if where not in client.scopes:
            only = " or ".join(f"--{s}" for s in client.scopes) or "--file PATH"
            raise SetupError(f"{client.title} has no {where} configuration file; use {only}")
        path = _config_file(client, where, workspace, home, env)
    exe, lead = command if command is not None else aether_command()
    wanted = client.entry(exe, [*lead, *_server_args(client, where, workspace,
                                                     workspace_given)])
    before = _read(path)
    doc = ConfigDoc(before or "", client.fmt, client.key, str(path))
    if not doc.set_entry(wanted):
        return Plan(client, where, path, before, before or "", wanted)
    if doc.had_comments:
        raise SetupError(
            f"{path} has comments, which rewriting it would lose, so AETHER left it "
            f"unchanged; add this to it by hand:\n{entry_text(client.fmt, client.key, wanted)}")
    return Plan(client, where, path, before, doc.render(), wanted)


def apply(plan: Plan, *, now: datetime | None = None) -> Path | None:
    """Write the plan (nothing when nothing changes); the backup's path, if a file was
    replaced. The new file keeps the old one's permissions."""
    if not plan.changed:
        return None
    path = plan.path
    backup: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode: int | None = None
        if plan.before is not None:
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
            backup = path.with_name(f"{path.name}.{stamp}.aether-backup")
            shutil.copy2(path, backup)
            mode = path.stat().st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(plan.after)
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise SetupError(f"cannot write {path} ({exc.strerror or exc})") from None
    return backup


@dataclass(frozen=True)
class Found:
    """One configuration file `--list` looked at."""

    client: Client
    scope: Scope
    path: Path
    state: Literal["configured", "not configured", "unreadable"]
    detail: str  # the configured command line, or why the file cannot be read


def find_configured(workspace: Path, *, home: Path | None = None,
                    env: Mapping[str, str] | None = None) -> list[Found]:
    """Every client configuration file that exists (user-wide, and this workspace's), and
    whether it has an `aether` server."""
    home = home if home is not None else Path.home()
    env = env if env is not None else os.environ
    workspace = workspace.expanduser().resolve()
    seen: set[Path] = set()  # one file two clients read (.mcp.json) is listed once
    found: list[Found] = []
    for client in CLIENTS.values():
        for scope in client.scopes:
            path = _config_file(client, scope, workspace, home, env)
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            try:
                doc = ConfigDoc(_read(path) or "", client.fmt, client.key, str(path))
            except SetupError as exc:
                found.append(Found(client, scope, path, "unreadable", str(exc)))
                continue
            entry = doc.entry()
            if entry is None:
                found.append(Found(client, scope, path, "not configured", ""))
                continue
            args = entry.get("args") or []
            line = " ".join([str(entry.get("command", "?")), *map(str, args)])
            found.append(Found(client, scope, path, "configured", line))
    return found
