"""`aether watch`: the daemon without a protocol, for a terminal or a CI box.

Prints one line per state change to stdout (it owns no protocol), exits 0 on SIGINT/SIGTERM
after a clean stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from aether.config import load_settings
from aether.engine.daemon import Daemon, DaemonEvent
from aether.logs import setup_logging


def _line(event: DaemonEvent) -> None:
    s = event.status
    if event.kind == "circuit":
        text = f"provider circuit {event.circuit_from} -> {s.circuit}"
    elif event.kind == "progress":
        return
    else:
        text = (f"{s.state} ({s.role}): {s.symbol_count} symbols, {s.sir_count} SIRs, "
                f"{s.stale_count} stale, {s.pending_count} pending")
        if s.message:
            text += f" — {s.message}"
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _main(workspace: str, overrides: dict[str, Any], verbose: bool) -> int:
    settings = load_settings(workspace, overrides)
    key = settings.inference.api_key()
    setup_logging(settings.log_dir, level=logging.INFO if verbose else logging.WARNING,
                  secrets=[key] if key else [])
    for notice in settings.notices:
        sys.stderr.write(f"aether: note: {notice}\n")
    daemon = Daemon(settings, command="aether watch")
    daemon.subscribe(_line)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await daemon.start()
    try:
        await stop.wait()
    finally:
        await daemon.stop()
    return 0


def run(workspace: str, overrides: dict[str, Any], *, verbose: bool = False) -> int:
    return asyncio.run(_main(workspace, overrides, verbose))
