"""`aether doctor`: check the store now and repair it if it is damaged.

Repair = move the damaged file aside (`aether.db.corrupt-<time>`), keep every SIR that can
still be read, rebuild the index; salvaged SIRs are reused for unchanged code, so no
inference is paid again for it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aether.cli.common import CliError, add_provider_flags, out
from aether.engine.engine import Engine
from aether.engine.writer_lock import WriterLock, current_writer
from aether.workspace import display_path


async def cmd_doctor(args: argparse.Namespace, engine: Engine) -> int:
    store = engine.store
    report: dict[str, Any] = {"db_path": str(store.path), "read_only": store.read_only}
    problem = store.identity_problem() or await store.quick_check(None)
    report["problem"] = problem
    if problem is None:
        report["result"] = "ok"
    elif store.read_only:
        raise CliError(f"{problem}; the database is read-only, so it cannot be repaired here "
                       "(use --state-dir to index elsewhere)")
    else:
        lock = WriterLock(engine.settings.data_dir)
        if not lock.try_acquire("aether doctor"):
            writer = current_writer(engine.settings.data_dir) or {}
            raise CliError(f"{problem}; another aether process (pid {writer.get('pid', '?')}) "
                           "is the writer: stop it, then run `aether doctor` again")
        try:
            recovery = await engine.repair()
            summary = await engine.index()
        finally:
            lock.release()
        counts = await store.counts()
        report.update(result="repaired", moved_to=recovery.moved_to,
                      salvaged_sirs=recovery.salvaged_sirs,
                      reused_sirs=summary.index.sirs_salvaged,
                      sir_attempted=summary.sirs.attempted,
                      symbol_count=counts.symbol_count, sir_ok=counts.ok_count)
    if args.json:
        out(json.dumps(report, indent=2))
        return 0
    out(f"database   {display_path(str(store.path))}")
    if problem is None:
        out("check      ok (quick_check)")
        return 0
    out(f"problem    {problem}")
    out(f"moved to   {display_path(report['moved_to'])}")
    out(f"salvaged   {report['salvaged_sirs']} SIR(s); {report['reused_sirs']} reused, "
        f"{report['sir_attempted']} generated again")
    out(f"rebuilt    {report['symbol_count']} symbols, {report['sir_ok']} SIRs ok")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common],
                       help="check the database; if damaged, move it aside, keep its SIRs, "
                            "rebuild")
    add_provider_flags(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
