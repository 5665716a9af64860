"""`aether estimate` (and `aether index --dry-run`): what the next pass would cost."""

from __future__ import annotations

import argparse
import json

from aether.cli.common import add_provider_flags, out
from aether.engine.engine import Engine
from aether.engine.writer_lock import WriterLock


async def cmd_estimate(args: argparse.Namespace, engine: Engine) -> int:
    # Only the writer updates the symbol table; when a daemon is the writer it keeps it
    # current, and the estimate reads it as it is.
    lock = WriterLock(engine.settings.data_dir)
    reindex = lock.try_acquire("aether estimate")
    try:
        e = (await engine.estimate(reindex=reindex)).as_dict()
    finally:
        if reindex:
            lock.release()
    if args.json:
        out(json.dumps(e, indent=2))
        return 0
    reasons = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(e["reasons"].items()))
    out(f"Estimate for {e['provider']}/{e['model']} (nothing was sent)")
    out(f"  symbols   {e['symbols']} need a SIR" + (f" ({reasons})" if reasons else ""))
    out(f"  requests  {e['requests']} (+ up to one more per SIR that contradicts its code)")
    out(f"  tokens    {e['input_tokens']:,} in + {e['output_tokens']:,} out")
    te = e["token_estimate"]
    basis = (f"calibrated from {te['calibrated_from_requests']} reported requests"
             if te["calibrated_from_requests"] else "default, no reported usage yet")
    out(f"            at {te['chars_per_token']:g} characters a token ({basis})")
    cost = (f"${e['cost']:.4f} (prices as of {e['prices_as_of']} unless set under [pricing])"
            if e["priced"] else "unknown: no price for this model (set [pricing])")
    out(f"  cost      {cost}")
    out(f"  time      {e['minutes_at_configured_rate']:.1f} min at the configured rate")
    for cap, n in e["symbols_within_caps"].items():
        if n is not None and n < e["symbols"]:
            out(f"  cap       {cap} stops a run after {n} of {e['symbols']} symbols")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("estimate", parents=[common],
                       help="symbols needing a SIR, tokens, requests, time and cost; sends nothing")
    add_provider_flags(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_estimate)
