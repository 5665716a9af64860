"""`aether usage`: the usage ledger summed by UTC day and model."""

from __future__ import annotations

import argparse
import json
import re

from aether.cli.common import CliError, out
from aether.engine.engine import Engine
from aether.engine.spending import usage_report

_SINCE = re.compile(r"^(\d+)d$")


def days_of(since: str) -> int:
    m = _SINCE.match(since.strip())
    if m is None or int(m.group(1)) < 1:
        raise CliError(f"--since takes a number of days such as 7d, not {since!r}")
    return int(m.group(1))


async def cmd_usage(args: argparse.Namespace, engine: Engine) -> int:
    report = await usage_report(engine.store, days_of(args.since))
    if args.json:
        out(json.dumps(report, indent=2))
        return 0
    if not report["rows"]:
        out(f"no provider requests since {report['since']}")
        return 0
    out(f"{'day':<11} {'model':<32} {'requests':>8} {'input':>10} {'output':>9} {'cost $':>10}")
    for r in report["rows"]:
        cost = f"{r['cost']:.4f}" if r["priced"] else "unpriced"
        model = f"{r['provider']}/{r['model']}"
        out(f"{r['day']:<11} {model:<32} {r['requests']:>8} {r['input_tokens']:>10,} "
            f"{r['output_tokens']:>9,} {cost:>10}")
    t = report["total"]
    out(f"{'total':<44} {t['requests']:>8} {t['input_tokens']:>10,} {t['output_tokens']:>9,} "
        f"{t['cost']:>10.4f}")
    out(f"(tokens as the providers reported them; prices as of {report['prices_as_of']} "
        "unless set under [pricing])")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("usage", parents=[common],
                       help="provider requests, tokens and cost by day and model")
    p.add_argument("--since", default="7d", help="how many days back, e.g. 7d (default)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_usage)
