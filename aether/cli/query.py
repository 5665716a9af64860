"""`aether search` and `aether sir`: find symbols, read one."""

from __future__ import annotations

import argparse
import json

from aether.cli.common import CliError, dump, out
from aether.engine.engine import AmbiguousTarget, Engine, UnknownTarget
from aether.engine.search import MAX_LIMIT, MODES, QueryError
from aether.present import sir_view
from aether.present.search import search_view
from aether.store.records import SymbolRecord
from aether.workspace import display_path


async def cmd_search(args: argparse.Namespace, engine: Engine) -> int:
    if not 1 <= args.limit <= MAX_LIMIT:  # the engine would clamp it: say so instead
        raise CliError(f"--limit must be between 1 and {MAX_LIMIT} (got {args.limit})")
    try:
        outcome = await engine.search(args.query, args.limit, args.mode,
                                      include_tests=args.include_tests)
    except QueryError as exc:
        raise CliError(str(exc)) from None
    view = search_view(outcome)
    if args.json:
        dump(view)
        return 0
    if outcome.fallback_reason:
        out(f"({outcome.mode_used} search: {outcome.fallback_reason})")
    if not view.matches:
        out(f"no symbols match {args.query!r}")
        if view.suggestions:
            out("did you mean: " + ", ".join(view.suggestions))
    for m in view.matches:
        flags = [m.sir_status] if m.sir_status != "ok" else []
        if m.is_test:
            flags.append(m.role)
        flag = f"  [{', '.join(flags)}]" if flags else ""
        out(f"{display_path(m.file_path)}:{m.start_line}  {m.kind} "
            f"{display_path(m.qualified_name)}{flag}")
        if m.summary:
            out(f"    {m.summary}")
        out(f"    why: {m.why}")
    return 0


async def cmd_sir(args: argparse.Namespace, engine: Engine) -> int:
    try:
        record = await engine.resolve(args.target)
    except (UnknownTarget, AmbiguousTarget) as exc:
        raise CliError(str(exc)) from None
    if args.history:
        return await _history(args, engine, record)
    view = sir_view(record)
    if args.json:
        dump(view)
        return 0
    out(f"{view.kind} {display_path(view.qualified_name)}  "
        f"({display_path(view.file_path)}:{view.start_line}-{view.end_line})")
    out(f"  {view.signature}")
    out(f"  status: {view.sir_status}" + (f" ({view.stale_reason})" if view.stale_reason else ""))
    if view.warning:
        out(f"  ⚠ {view.warning}")
    if view.sir:
        out(f"  intent: {view.sir['intent']}")
        for key in ("inputs", "outputs", "side_effects", "dependencies", "error_modes"):
            if view.sir.get(key):
                out(f"  {key.replace('_', ' ')}: " + "; ".join(view.sir[key]))
        out(f"  confidence: {view.sir['confidence']:.2f}  by {view.provider}"
             + (f"/{view.model}" if view.model else "") + f" at {view.updated_at}")
    if view.verification:
        unsupported = view.verification.get("unsupported") or []
        missed = view.verification.get("missed") or []
        if unsupported:
            out(f"  ⚠ {len(unsupported)} claim(s) not found in the code: "
                + "; ".join(unsupported))
        if missed:
            out("  in the code, not in the SIR: " + "; ".join(missed))
    return 0


async def _history(args: argparse.Namespace, engine: Engine, record: SymbolRecord) -> int:
    versions = [{"sir_hash": h, "created_at": at, "provider": provider, "model": model,
                 "prompt_version": prompt or None, "source_hash": source,
                 "current": h == record.sir_hash, "sir": json.loads(sir_json)}
                for h, at, provider, model, prompt, source, sir_json
                in await engine.store.sir_versions(record.id)]
    if args.json:
        out(json.dumps({"symbol_id": record.id, "qualified_name": record.qualified_name,
                        "versions": versions}, indent=2, ensure_ascii=False))
        return 0
    out(f"{record.kind} {record.qualified_name}: {len(versions)} version(s), newest first")
    for v in versions:
        mark = "*" if v["current"] else " "
        prompt = f" prompt {v['prompt_version']}" if v["prompt_version"] else ""
        code = "this code" if v["source_hash"] == record.content_hash else "earlier code"
        out(f" {mark} {v['created_at']}  {v['provider']}/{v['model']}{prompt}  ({code})  "
            f"{v['sir']['intent']}")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("search", parents=[common], help="ranked search over symbols and SIRs")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--mode", choices=list(MODES), default="hybrid",
                   help="hybrid (default): lexical and semantic fused; lexical: ranked words "
                        "and names; semantic: meaning, from local embeddings")
    p.add_argument("--include-tests", action="store_true",
                   help="rank tests, examples, vendored and generated code like product code")
    p.add_argument("--json", action="store_true")
    # no integrity check at open: a lookup stays quick, and a query meeting damage says so
    p.set_defaults(func=cmd_search, creates=False, checks_store=False)

    p = sub.add_parser("sir", parents=[common], help="one symbol's SIR and its status")
    p.add_argument("target", help="symbol id, qualified name, or path:line")
    p.add_argument("--history", action="store_true",
                   help="every version of its SIR: when, by which provider/model/prompt")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sir, creates=False, checks_store=False)
