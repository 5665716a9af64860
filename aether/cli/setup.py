"""`aether setup`: configure an MCP client to start this AETHER (the logic and the clients'
file formats live in `aether.agents`; this module parses flags and prints)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aether.agents.clients import CLIENTS
from aether.agents.setup import SetupError, apply, find_configured, plan_setup
from aether.agents.snippet import AGENT_SNIPPET
from aether.cli.common import CliError, out


def cmd_setup(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace or ".")
    if args.snippet:
        out(AGENT_SNIPPET.rstrip("\n"))
        return 0
    if args.list:
        return _list(workspace)
    if args.client is None:
        raise CliError("name a client (" + ", ".join(CLIENTS) + "), or pass --list or "
                       "--snippet")
    try:
        plan = plan_setup(args.client, workspace=workspace, scope=args.scope,
                          workspace_given=args.workspace is not None,
                          file=Path(args.file) if args.file else None)
        where = f"{plan.client.title} ({plan.scope})"
        if not plan.changed:
            out(f"{where}: already configured in {plan.path}; nothing to change")
            return 0
        if args.dry_run:
            out(plan.diff().rstrip("\n"))
            out(f"(dry run: {plan.path} was not changed)")
            return 0
        backup = apply(plan)
    except SetupError as exc:
        raise CliError(str(exc)) from None
    out(f"{where}: configured the `aether` MCP server in {plan.path}")
    out(f"  command: {' '.join([plan.entry['command'], *plan.entry['args']])}")
    if backup is not None:
        out(f"  backup of the previous file: {backup}")
    if plan.client.note:
        out(f"  note: {plan.client.note}")
    out("  restart the client (or reload its MCP servers) to pick it up; "
        "`aether setup --snippet` prints optional AGENTS.md/CLAUDE.md text")
    return 0


def _list(workspace: Path) -> int:
    found = find_configured(workspace)
    if not found:
        out("no MCP client configuration files found (user-wide or in this workspace)")
        return 0
    for f in found:
        detail = f": {f.detail}" if f.detail else ""
        out(f"{f.client.title:<30} {f.scope:<8} {f.state}{detail}")
        out(f"{'':<30} {'':<8} {f.path}")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "setup", help="configure an MCP client (Claude Code, Codex, Cursor, ...) to use AETHER",
        description="Write or merge CLIENT's MCP configuration so it starts this aether "
                    "(other servers are kept, the old file is backed up, a second run "
                    "changes nothing).")
    p.add_argument("client", nargs="?", choices=list(CLIENTS), metavar="CLIENT",
                   help="one of: " + ", ".join(CLIENTS))
    p.add_argument("--workspace", "-w", default=None,
                   help="the project folder (default: .); with --user, pins that folder")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--user", dest="scope", action="store_const", const="user",
                       help="the client's user-wide configuration")
    scope.add_argument("--project", dest="scope", action="store_const", const="project",
                       help="the project's configuration (the default where the client has one)")
    p.add_argument("--file", help="write this configuration file instead (mcp.json format "
                                  "of the client)")
    p.add_argument("--dry-run", action="store_true", help="print the change as a diff; write "
                                                          "nothing")
    p.add_argument("--list", action="store_true", help="show which clients are configured")
    p.add_argument("--snippet", action="store_true",
                   help="print an AGENTS.md / CLAUDE.md paragraph (nothing is written)")
    p.set_defaults(plain=cmd_setup)
