"""What every CLI command shares: settings from flags, output, and running against an engine."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from aether.config import Settings, load_settings
from aether.engine.engine import Engine, NotIndexed
from aether.logs import setup_logging

PROVIDERS = ["static", "openai", "gemini", "anthropic"]


class CliError(Exception):
    """A one-line error for the user; `main` prints it and exits 2."""


def overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The flags that override `[inference]` settings (unset ones are None and ignored), and
    the state directory."""
    return {"inference": {k: getattr(args, k, None) for k in ("provider", "model", "endpoint")},
            "state": {"dir": getattr(args, "state_dir", None)}}


def settings_of(args: argparse.Namespace) -> Settings:
    # Commands that only read (status, search, sir) create nothing in the workspace.
    return load_settings(args.workspace, overrides(args), create=getattr(args, "creates", True))


def add_state_dir_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", metavar="DIR",
                   help="keep the database, lock and logs here instead of <workspace>/.aether "
                        "(also AETHER_STATE_DIR; default for a read-only workspace: "
                        "$XDG_CACHE_HOME/aether/...)")


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def dump(model: Any) -> None:
    out(json.dumps(model.model_dump(mode="json") if hasattr(model, "model_dump") else model,
                   indent=2, ensure_ascii=False))


def add_provider_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--provider", choices=PROVIDERS)
    p.add_argument("--model")
    p.add_argument("--endpoint")


Command = Callable[[argparse.Namespace, Engine], Coroutine[Any, Any, int]]


def note(text: str) -> None:
    """A one-line notice on stderr (stdout stays for results and JSON)."""
    sys.stderr.write(f"aether: note: {text}\n")


async def run_with_engine(args: argparse.Namespace, command: Command) -> int:
    settings = settings_of(args)
    for notice in settings.notices:
        note(notice)
    key = settings.inference.api_key()
    creates = getattr(args, "creates", True)
    log_dir = settings.log_dir if creates or settings.data_dir.is_dir() else None
    setup_logging(log_dir, level=logging.WARNING if not args.verbose else logging.INFO,
                  secrets=[key] if key else [])
    try:
        engine = await Engine.open(settings, create=creates,
                                   check=getattr(args, "checks_store", True))
    except NotIndexed:
        handler = getattr(args, "on_not_indexed", None)
        if handler is None:
            raise
        return int(handler(args, settings))
    try:
        return await command(args, engine)
    finally:
        await engine.close()


def run_command(args: argparse.Namespace) -> int:
    return asyncio.run(run_with_engine(args, args.func))
