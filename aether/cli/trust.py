"""`aether trust`: allow a workspace's `.aether/config.toml` to decide where code and keys go.

Like direnv's `allow`: the file's SHA-256 is recorded in the user's own state; a changed file
needs trusting again. Shows what the file would send where before and after.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from aether import trust
from aether.cli.common import CliError, out
from aether.config import CONFIG_DIR, CONFIG_FILE, network_settings

NOTHING_SENT = "it sets nothing that sends data off this machine"


def _config_path(args: argparse.Namespace) -> Path:
    root = Path(args.workspace).expanduser()
    if not root.is_dir():
        raise CliError(f"no such workspace directory: {root}")
    return root.resolve() / CONFIG_DIR / CONFIG_FILE


def _describe(path: Path) -> str:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CliError(f"{path}: cannot be read as TOML: {exc}") from None
    found = network_settings(data)
    if not found:
        return NOTHING_SENT
    return "it sets " + ", ".join(f"{k} = {v!r}" for k, v in found.items())


def cmd_trust(args: argparse.Namespace) -> int:
    path = _config_path(args)
    if args.revoke:
        out(f"no longer trusted: {path}" if trust.revoke(path) else f"was not trusted: {path}")
        return 0
    if not path.is_file():
        raise CliError(f"no configuration file at {path}")
    trusted = trust.is_trusted(path)
    if args.show:
        what = _describe(path)
        if what == NOTHING_SENT:  # nothing in it is gated: trust changes nothing
            out(f"{path}: {what}; no trust needed")
            return 0
        state = "trusted" if trusted else "NOT trusted (or changed since it was trusted)"
        out(f"{path}: {state}; {what}")
        return 0 if trusted else 1
    what = _describe(path)
    if trusted:
        out(f"already trusted: {path}; {what}")
        return 0
    digest = trust.trust(path)
    out(f"trusted {path} (sha256 {digest[:12]}…); {what}")
    out("any change to the file will need `aether trust` again")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "trust", parents=[common],
        help="let this workspace's .aether/config.toml choose the provider and endpoints")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--revoke", action="store_true", help="stop trusting the file")
    group.add_argument("--show", action="store_true",
                       help="say whether the file is trusted (exit 1 if not)")
    p.set_defaults(plain=cmd_trust)
