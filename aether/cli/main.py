"""The `aether` command: the parser, and dispatch to one module per command group.

A new command group is a module with `register(sub, common)` listed in `COMMAND_GROUPS`; its
commands set `func` (an async function given an open engine) or `plain` (a function given the
arguments, for commands that need no store). The stdio servers (`lsp`, `mcp`) and `watch` own
their event loop and are started apart.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

from aether import __version__
from aether.cli import doctor, estimate, graph, index, query, setup, status, trust, usage
from aether.cli.common import (
    CliError,
    add_provider_flags,
    add_state_dir_flag,
    overrides,
    run_command,
)
from aether.config import ConfigError
from aether.engine.engine import QueryTooLong
from aether.store.db import StoreError
from aether.workspace import PathOutsideWorkspace

COMMAND_GROUPS = (index, query, status, trust, usage, estimate, graph, doctor, setup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aether", description="A live structured summary (SIR) of every symbol.")
    parser.add_argument("--version", action="version", version=f"aether {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", "-w", default=".", help="workspace root (default: .)")
    common.add_argument("--verbose", "-v", action="store_true", help="log more to stderr")
    add_state_dir_flag(common)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub, common)

    p = sub.add_parser("watch", parents=[common],
                       help="headless daemon: index, then keep the index current as files change")
    add_provider_flags(p)
    p.set_defaults(server="watch")

    for name, text in (("lsp", "language server over stdio (editors)"),
                       ("mcp", "MCP server over stdio (AI agents)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--workspace", "-w", default=None,
                       help="workspace root (lsp: default from the client's root; mcp: .)")
        p.add_argument("--verbose", "-v", action="store_true", help="log more to stderr")
        add_state_dir_flag(p)
        add_provider_flags(p)
        # Language clients add --stdio on their own; stdio is the default transport.
        p.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)
        if name == "mcp":
            p.add_argument("--http", metavar="HOST:PORT",
                           help="serve MCP over Streamable HTTP at http://HOST:PORT/mcp "
                                "instead of stdio (loopback by default; any other address "
                                "needs AETHER_MCP_TOKEN)")
        p.set_defaults(server=name)
    return parser


def _serve(args: argparse.Namespace) -> int:
    """stdio servers own the event loop and stdout; nothing here may print."""
    flags = overrides(args)
    if args.server == "watch":
        from aether.watch import run as run_watch

        return run_watch(args.workspace, flags, verbose=args.verbose)
    if args.server == "lsp":
        from aether.lsp.server import run as run_lsp

        return run_lsp(args.workspace, flags, verbose=args.verbose)
    if getattr(args, "http", None):
        from aether.mcp.http import run_http

        return run_http(args.workspace or ".", flags, args.http, verbose=args.verbose)
    from aether.mcp.server import run as run_mcp

    return run_mcp(args.workspace or ".", flags, verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "server", None):
            return _serve(args)
        if getattr(args, "plain", None):  # commands that need no store
            return int(args.plain(args))
        return run_command(args)
    except (CliError, ConfigError, StoreError, PathOutsideWorkspace, QueryTooLong) as exc:
        sys.stderr.write(f"aether: error: {exc}\n")
        return 2
    except sqlite3.Error as exc:  # never a traceback: the store's own errors are caught above
        sys.stderr.write(f"aether: error: database: {' '.join(str(exc).split())}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("aether: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`aether search x | head`): nothing to report. Point stdout at
        # the null device so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
