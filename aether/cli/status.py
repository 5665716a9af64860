"""`aether status`: counts, health, provider, writer."""

from __future__ import annotations

import argparse

from aether.cli.common import dump, out
from aether.config import Settings
from aether.engine.engine import Engine, not_indexed_status
from aether.present import StatusView
from aether.workspace import display_path


def status_not_indexed(args: argparse.Namespace, settings: Settings) -> int:
    """A folder never indexed: say so, create nothing."""
    return show(args, not_indexed_status(settings))


async def cmd_status(args: argparse.Namespace, engine: Engine) -> int:
    return show(args, await engine.status())


def show(args: argparse.Namespace, view: StatusView) -> int:
    if args.json:
        dump(view)
        return 0
    out(f"workspace  {display_path(view.workspace)}")
    out(f"database   {display_path(view.db_path)}")
    out(f"files      {view.file_count} indexed, {view.skipped_file_count} skipped")
    if view.unsupported_files:
        by_count = sorted(view.unsupported_files.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{ext} {n}" for ext, n in by_count[:12])
        more = f", … {len(by_count) - 12} more" if len(by_count) > 12 else ""
        out(f"not indexed {sum(view.unsupported_files.values())} files with no supported "
            f"language: {shown}{more}")
    out(f"symbols    {view.symbol_count}")
    out(f"SIRs       {view.ok_count} ok / {view.stale_count} stale / {view.pending_count} pending"
         f"  (provider {view.provider}{'/' + view.model if view.model else ''})")
    out(f"indexed    {view.last_indexed_at or 'never'}")
    out(f"health     {view.health.status.replace('_', ' ')}"
         + (": " + "; ".join(view.health.reasons) if view.health.reasons else ""))
    if view.untrusted_reason:
        out(f"config     untrusted: {view.untrusted_reason}")
    if view.redaction_count:
        out(f"secrets    {view.redaction_count} credential(s) masked in "
            f"{view.redacted_symbol_count} symbol(s) before storing or sending")
    if view.read_only:
        out("store      read-only: served as it is, not kept current")
    if view.memory:
        m = view.memory
        limit = f"ceiling {m.limit_mb} MB" if m.limit_mb else "no ceiling"
        out(f"memory     {m.rss_mb:.0f} MB ({limit}; caches shed {m.sheds}x, "
            f"{m.worker_cap} parse worker(s))" + (f": {m.reason}" if m.over else ""))
    if view.writer:
        out(f"writer     pid {view.writer['pid']} ({view.writer.get('command')}) "
             f"since {view.writer.get('since')}")
    sp = view.spend
    if sp and (sp["today_requests"] or any(v is not None for v in sp["caps"].values())):
        left = [f"{k.replace('_', ' ')} " + (f"${v:.4f}" if k.startswith("cost") else f"{v:,.0f}")
                for k, v in sp["left"].items() if v is not None]
        out(f"spend      today {sp['today_tokens']:,} tokens, ${sp['today_cost']:.4f} "
            f"({sp['today_requests']} requests)" + ("; left: " + ", ".join(left) if left else ""))
        if sp.get("cap_reached"):
            out(f"           {sp['cap_reached']}")
    if view.unverified_count:
        out(f"verified   {view.unverified_count} model SIR(s) make claims not found in the code")
    if view.guard:
        g = view.guard
        out(f"guard      circuit {g.get('circuit_state')}, {g.get('requests', 0)} requests, "
             f"{g.get('retries', 0)} retries, {g.get('throttled_waits', 0)} throttled waits")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("status", parents=[common], help="counts and health")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status, creates=False, on_not_indexed=status_not_indexed)
