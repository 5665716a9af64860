"""`aether outline|source|callers|callees|impact`: the call graph from a shell, each with
`--json` (the same envelopes as the MCP tools)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from aether.cli.common import CliError, dump, out
from aether.engine import graph
from aether.engine.engine import AmbiguousTarget, Engine, UnknownTarget
from aether.present.graph import Coverage, EdgeView, OutlineNode, SymbolBrief
from aether.store.records import SymbolRecord


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (UnknownTarget, AmbiguousTarget, graph.BadArgument) as exc:
        raise CliError(str(exc)) from None


async def _target(engine: Engine, target: str) -> SymbolRecord:
    with _errors():
        return await engine.resolve(target)


def _brief(b: SymbolBrief) -> str:
    flag = "" if b.sir_status == "ok" else f"  [{b.stale_reason or b.sir_status}]"
    return f"{b.kind} {b.qualified_name}  ({b.file_path}:{b.start_line}){flag}"


def _coverage(c: Coverage) -> str:
    text = (f"coverage: {c.resolved} resolved, {c.ambiguous} ambiguous, {c.external} external, "
            f"{c.unresolved} unresolved")
    if c.truncated:
        text += ", truncated"
    if not c.graph_complete:
        text += " (indexing still resolving edges)"
    return text


def _edge(e: EdgeView, who: SymbolBrief | None) -> str:
    indent = "  " * e.depth
    name = who.qualified_name if who else e.callee
    return f"{indent}{e.file_path}:{e.line}  {name}  [{e.provenance}]"


def _print_outline(nodes: list[OutlineNode], level: int = 0) -> None:
    for n in nodes:
        flag = "" if n.sir_status == "ok" else f"  [{n.stale_reason or n.sir_status}]"
        out(f"{'  ' * level}{n.start_line:>5}  {n.kind} {n.qualified_name}{flag}")
        if n.intent:
            out(f"{'  ' * level}       {n.intent}")
        _print_outline(n.children, level + 1)


async def cmd_outline(args: argparse.Namespace, engine: Engine) -> int:
    with _errors():
        view = await graph.outline(engine, args.file)
    if args.json:
        dump(view)
    elif not view.symbols:
        out(f"no symbols indexed in {view.file_path}" + (f" ({view.note})" if view.note else ""))
    else:
        _print_outline(view.symbols)
    return 0


async def cmd_source(args: argparse.Namespace, engine: Engine) -> int:
    record = await _target(engine, args.target)
    with _errors():
        view = await graph.source(engine, record, context_lines=args.context,
                                  max_tokens=args.max_tokens)
    if args.json:
        dump(view)
        return 0
    out(f"# {view.file_path}:{view.start_line}-{view.end_line}"
        + ("  (changed since its SIR)" if view.changed_since_sir else "")
        + ("  (truncated)" if view.truncated else ""))
    out(view.source)
    return 0


async def cmd_callers(args: argparse.Namespace, engine: Engine) -> int:
    record = await _target(engine, args.target)
    with _errors():
        view = await graph.callers(engine, record, args.depth,
                                   include_references=args.references)
    if args.json:
        dump(view)
        return 0
    out(f"callers of {_brief(view.target)}: {view.answer.replace('_', ' ')}")
    for e in view.callers:
        out(_edge(e, e.caller))
    if view.references:
        out(f"references ({view.reference_count}):")
        for e in view.references:
            out(_edge(e, e.caller))
    elif view.reference_count:
        out(f"{view.reference_count} reference(s) without a call (--references lists them)")
    if view.ambiguous:
        out("maybe (ambiguous):")
        for e in view.ambiguous:
            out(_edge(e, e.caller) + f" one of {e.candidate_count}")
    if view.note:
        out(view.note)
    out(_coverage(view.coverage))
    return 0


async def cmd_callees(args: argparse.Namespace, engine: Engine) -> int:
    record = await _target(engine, args.target)
    with _errors():
        view = await graph.callees(engine, record, args.depth)
    if args.json:
        dump(view)
        return 0
    out(f"callees of {_brief(view.source)}:")
    for e in view.callees:
        out(_edge(e, e.target))
    for label, edges in (("ambiguous", view.ambiguous), ("external", view.external),
                         ("unresolved", view.unresolved)):
        if edges:
            out(f"{label}: " + ", ".join(
                sorted({e.external_target or e.callee for e in edges})))
    out(_coverage(view.coverage))
    return 0


async def cmd_impact(args: argparse.Namespace, engine: Engine) -> int:
    files = [f for f in args.files if ":" not in f]
    symbols = [f for f in args.files if ":" in f]
    with _errors():
        if args.ref is not None and args.files:
            raise graph.BadArgument("pass either --ref or files, not both")
        view = await graph.impact(engine, files=files if not symbols else (),
                                  symbols=symbols if not files else (),
                                  git_ref=args.ref if not args.files else None,
                                  depth=args.depth)
    if args.json:
        dump(view)
        return 0
    out(f"changed ({len(view.changed)}):")
    for s in view.changed:
        out(f"  {_brief(s.symbol)}")
    out(f"callers up to depth {view.depth} ({len(view.callers)}):")
    for s in view.callers:
        out(f"  {'  ' * (s.depth - 1)}{_brief(s.symbol)}")
    if view.needs_attention:
        out(f"SIRs to look at again ({len(view.needs_attention)}):")
        for b in view.needs_attention:
            out(f"  {_brief(b)}")
    if view.note:
        out(view.note)
    out(_coverage(view.coverage))
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("outline", parents=[common], help="a file's symbols, nested")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_outline)

    p = sub.add_parser("source", parents=[common], help="a symbol's exact source, from disk")
    p.add_argument("target", help="symbol id, qualified name, or path:line")
    p.add_argument("--context", type=int, default=0, help="whole lines around it")
    p.add_argument("--max-tokens", type=int, default=8000)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_source)

    for name, func, what in (("callers", cmd_callers, "who calls a symbol"),
                             ("callees", cmd_callees, "what a symbol calls")):
        p = sub.add_parser(name, parents=[common], help=f"{what}, with provenance")
        p.add_argument("target", help="symbol id, qualified name, or path:line")
        p.add_argument("--depth", type=int, default=1, help="levels to follow (1..3)")
        p.add_argument("--json", action="store_true")
        if name == "callers":
            p.add_argument("--references", action="store_true",
                           help="also list the sites that use it without calling it")
        p.set_defaults(func=func)

    p = sub.add_parser("impact", parents=[common],
                       help="symbols a change touches and their callers")
    p.add_argument("files", nargs="*", help="changed files, or symbols as path:line")
    p.add_argument("--ref", help="a git revision: what changed since it")
    p.add_argument("--depth", type=int, default=2, help="levels of callers (1..3)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_impact)
