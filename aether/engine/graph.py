"""The call graph as surfaces ask for it: a file's outline, a symbol's exact source, its
callers and callees (depth 1..3) with provenance and coverage, the impact of a change, and
one packed context for an agent. Every surface (MCP, CLI, LSP) calls these functions.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aether.engine.engine import Engine, UnknownTarget
from aether.hashing import content_hash
from aether.present.graph import (
    CalleesView,
    CallersView,
    ContextView,
    Coverage,
    EdgeView,
    ImpactedSymbol,
    ImpactView,
    OutlineNode,
    OutlineView,
    SourceView,
    SymbolBrief,
    context_warning,
    symbol_brief,
)
from aether.store.graph_records import RESOLVED, Edge
from aether.store.records import SymbolRecord
from aether.symbols.extract import ParseTimeout, analyze_source
from aether.symbols.languages import language_for_path
from aether.workspace import resolve_in_workspace

MAX_DEPTH = 3
MAX_EDGES = 200  # per answer; past this, `coverage.truncated`
MAX_TOKENS = 100_000
CHARS_PER_TOKEN = 4
GIT_TIMEOUT_S = 20.0
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class BadArgument(ValueError):
    """An argument out of range or a combination that makes no sense; one plain line."""


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise BadArgument(f"depth must be between 1 and {MAX_DEPTH} (got {depth})")
    return depth


def check_tokens(max_tokens: int) -> int:
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise BadArgument(f"max_tokens must be between 1 and {MAX_TOKENS} (got {max_tokens})")
    return max_tokens


def tokens_of(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


# ---------------------------------------------------------------------------- outline


async def outline(engine: Engine, path: str) -> OutlineView:
    """The symbols of a file, nested as they are in the code."""
    rel = resolve_in_workspace(engine.settings.workspace, path)
    records = await engine.store.symbols_in_file(rel)
    if not records and not (engine.settings.workspace / rel).is_file():
        raise UnknownTarget(f"no such file in the workspace: {rel}")
    records.sort(key=lambda r: (r.start_byte, -r.end_byte))
    roots: list[OutlineNode] = []
    stack: list[tuple[int, OutlineNode]] = []  # (end_byte, node)
    for r in records:
        node = OutlineNode(**symbol_brief(r).model_dump())
        while stack and stack[-1][0] <= r.start_byte:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((r.end_byte, node))
    note = None
    if not records:
        note = await engine.not_indexed_reason(rel) or "no symbols: module-level code only"
    return OutlineView(file_path=rel, language=language_for_path(rel),
                       symbol_count=len(records), symbols=roots, note=note)


# ---------------------------------------------------------------------------- source


@dataclass(slots=True)
class _Slice:
    start_byte: int
    end_byte: int
    changed_since_index: bool


async def _current_slice(engine: Engine, record: SymbolRecord, data: bytes) -> _Slice:
    """Where the symbol is in the bytes on disk now: the stored range if the file did not
    change, else found again by its stable id in a fresh parse."""
    stored = data[record.start_byte:record.end_byte]
    if content_hash(stored) == record.content_hash:
        return _Slice(record.start_byte, record.end_byte, False)
    try:
        analysis = await asyncio.to_thread(
            analyze_source, record.file_path, record.language, data,
            timeout_s=engine.settings.index.parse_timeout_s)
    except (ParseTimeout, ValueError) as exc:
        raise UnknownTarget(f"{record.file_path} cannot be parsed now: {exc}") from None
    for s in analysis.symbols:
        if s.id == record.id:
            return _Slice(s.start_byte, s.end_byte, True)
    raise UnknownTarget(f"{record.qualified_name} is no longer in {record.file_path} "
                        "(changed since it was indexed)")


async def source(engine: Engine, record: SymbolRecord, *, context_lines: int = 0,
                 max_tokens: int = 8000) -> SourceView:
    """The exact source of a symbol as it is on disk now."""
    check_tokens(max_tokens)
    if not 0 <= context_lines <= 200:
        raise BadArgument(f"context_lines must be between 0 and 200 (got {context_lines})")
    path = engine.settings.workspace / record.file_path
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise UnknownTarget(f"{record.file_path} cannot be read: {exc.strerror or exc}") from None
    where = await _current_slice(engine, record, data)
    start, end = where.start_byte, where.end_byte
    body = data[start:end]
    first_line = data.count(b"\n", 0, start) + 1
    if context_lines:  # whole lines around the symbol
        lines = data.split(b"\n")
        last = data.count(b"\n", 0, max(end - 1, start)) + 1
        first_line = max(1, first_line - context_lines)
        upto = min(len(lines), last + context_lines)
        text = b"\n".join(lines[first_line - 1:upto]).decode("utf-8", errors="replace")
    else:
        text = body.decode("utf-8", errors="replace")
    truncated = False
    budget = max_tokens * CHARS_PER_TOKEN
    if len(text) > budget:
        cut = text.rfind("\n", 0, budget)
        text = text[:cut + 1 if cut > 0 else budget]
        truncated = True
    last_line = first_line + text.count("\n") - (1 if truncated and text.endswith("\n") else 0)
    changed = record.source_hash is None or content_hash(body) != record.source_hash
    return SourceView(symbol=symbol_brief(record), file_path=record.file_path,
                      start_line=first_line, end_line=last_line, start_byte=start,
                      end_byte=end, source=text, changed_since_sir=changed,
                      changed_since_index=where.changed_since_index, truncated=truncated,
                      max_tokens=max_tokens)


# ---------------------------------------------------------------------------- edges


async def _briefs(engine: Engine, ids: Sequence[str]) -> dict[str, SymbolBrief]:
    records = await engine.store.symbols(list(dict.fromkeys(ids)))
    return {r.id: symbol_brief(r) for r in records}


def _candidate_ids(edge: Edge) -> tuple[int, list[str]]:
    if edge.provenance != "ambiguous" or not edge.detail:
        return 0, []
    detail = json.loads(edge.detail)
    return int(detail.get("count", 0)), list(detail.get("candidates", []))


def _coverage(edges: Sequence[Edge], truncated: bool, complete: bool) -> Coverage:
    by: dict[str, int] = {}
    for e in edges:
        by[e.provenance] = by.get(e.provenance, 0) + 1
    return Coverage(
        resolved=sum(n for p, n in by.items() if p in RESOLVED),
        ambiguous=by.get("ambiguous", 0), external=by.get("external", 0),
        unresolved=by.get("unresolved", 0), by_provenance=by, truncated=truncated,
        graph_complete=complete)


async def callers(engine: Engine, target: SymbolRecord, depth: int = 1, *,
                  include_references: bool = False) -> CallersView:
    """Who calls `target`, transitively up to `depth` (resolved edges only are followed);
    the sites that reference it without calling it are counted (listed on request)."""
    check_depth(depth)
    store = engine.store
    found: list[tuple[int, Edge]] = []
    ambiguous = await store.ambiguous_into(target.name, target.id, MAX_EDGES)
    unresolved = await store.unresolved_named(target.name)
    frontier, seen = [target.id], {target.id}
    truncated = len(ambiguous) >= MAX_EDGES
    references: list[Edge] = []
    for level in range(1, depth + 1):
        next_frontier: list[str] = []
        for sid in frontier:
            edges = await store.edges_into(sid, MAX_EDGES + 1)
            if level == 1:
                references = [e for e in edges if e.kind == "reference"]
            for e in edges:
                if e.kind != "call":
                    continue
                if len(found) >= MAX_EDGES:
                    truncated = True
                    break
                found.append((level, e))
                if e.caller_id not in seen:
                    seen.add(e.caller_id)
                    next_frontier.append(e.caller_id)
        frontier = next_frontier
        if not frontier or truncated:
            break
    briefs = await _briefs(engine, [e.caller_id for _, e in found]
                           + [e.caller_id for e in ambiguous]
                           + ([e.caller_id for e in references] if include_references else []))
    direct = [e for lvl, e in found if lvl == 1]
    complete = not await store.graph_pending()
    coverage = _coverage(direct + ambiguous, truncated, complete)
    coverage.unresolved = max(unresolved, 0)
    if direct:
        answer = "has_callers"
    elif ambiguous or unresolved > 0 or not complete:
        answer = "unknown"
    else:
        answer = "no_callers"
    note = None
    if answer == "unknown":
        note = (f"no call resolves to {target.qualified_name}, but {len(ambiguous)} ambiguous "
                f"and {max(unresolved, 0)} unresolved calls of `{target.name}` may reach it"
                + ("" if complete else "; indexing is still resolving edges"))
    elif answer == "no_callers":
        note = f"every call of `{target.name}` in the workspace resolves elsewhere, or none exists"
    return CallersView(
        target=symbol_brief(target), depth=depth, answer=answer,  # type: ignore[arg-type]
        callers=[_edge_view(e, lvl, caller=briefs.get(e.caller_id)) for lvl, e in found],
        ambiguous=[_edge_view(e, 1, caller=briefs.get(e.caller_id),
                              candidates=_candidate_ids(e)[0]) for e in ambiguous],
        unresolved_same_name=max(unresolved, 0), reference_count=len(references),
        references=[_edge_view(e, 1, caller=briefs.get(e.caller_id)) for e in references]
        if include_references else [],
        coverage=coverage, note=note)


def _edge_view(e: Edge, depth: int, *, caller: SymbolBrief | None = None,
               target: SymbolBrief | None = None, candidates: int = 0,
               candidate_briefs: list[SymbolBrief] | None = None) -> EdgeView:
    return EdgeView(file_path=e.file_path, line=e.line, column=e.column, callee=e.callee,
                    provenance=e.provenance, depth=depth,  # type: ignore[arg-type]
                    kind=e.kind,  # type: ignore[arg-type]
                    caller=caller, target=target, candidate_count=candidates,
                    candidates=candidate_briefs or [],
                    external_target=e.detail if e.provenance == "external" else None)


async def callees(engine: Engine, source_record: SymbolRecord, depth: int = 1) -> CalleesView:
    """What `source_record` calls, following resolved edges up to `depth`."""
    check_depth(depth)
    store = engine.store
    found: list[tuple[int, Edge]] = []
    frontier, seen = [source_record.id], {source_record.id}
    truncated = False
    for level in range(1, depth + 1):
        next_frontier: list[str] = []
        for sid in frontier:
            for e in await store.edges_from(sid):
                if e.kind != "call":
                    continue  # callees are calls; references are listed by callers
                if len(found) >= MAX_EDGES:
                    truncated = True
                    break
                found.append((level, e))
                if e.provenance in RESOLVED and e.target_id and e.target_id not in seen:
                    seen.add(e.target_id)
                    next_frontier.append(e.target_id)
        frontier = next_frontier
        if not frontier or truncated:
            break
    ids: list[str] = [e.target_id for _, e in found if e.target_id]
    for _, e in found:
        ids.extend(_candidate_ids(e)[1])
    briefs = await _briefs(engine, ids)
    direct = [e for lvl, e in found if lvl == 1]

    def view(lvl: int, e: Edge) -> EdgeView:
        count, cands = _candidate_ids(e)
        return _edge_view(e, lvl, target=briefs.get(e.target_id or ""), candidates=count,
                          candidate_briefs=[briefs[c] for c in cands if c in briefs])

    groups: dict[str, list[EdgeView]] = {"resolved": [], "ambiguous": [], "external": [],
                                         "unresolved": []}
    for lvl, e in found:
        key = "resolved" if e.provenance in RESOLVED else e.provenance
        groups[key].append(view(lvl, e))
    return CalleesView(
        source=symbol_brief(source_record), depth=depth,
        answer="has_callees" if direct else "no_callees",
        callees=groups["resolved"], ambiguous=groups["ambiguous"],
        external=groups["external"], unresolved=groups["unresolved"],
        coverage=_coverage(direct, truncated, not await store.graph_pending()))


# ---------------------------------------------------------------------------- impact


async def _git_changes(root: Path, ref: str) -> dict[str, list[tuple[int, int]]]:
    """path -> changed line ranges (new side) between `ref` and the working tree."""
    if ref.startswith("-") or not ref.strip():
        raise BadArgument(f"not a git revision: {ref!r}")
    try:
        # --relative: a workspace may be a folder inside its repository (a package of a
        # monorepo); git would name files from the repository's top otherwise
        proc = await asyncio.create_subprocess_exec(
            "git", "-C", str(root), "diff", "--relative", "--unified=0", "--no-color",
            "--no-ext-diff", ref, "--", stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
    except FileNotFoundError:
        raise BadArgument("git is not installed") from None
    except TimeoutError:
        raise BadArgument(f"git diff {ref} took longer than {GIT_TIMEOUT_S:g}s") from None
    if proc.returncode != 0:
        lines = err.decode("utf-8", errors="replace").strip().splitlines()
        if any("Not a git repository" in line for line in lines):
            raise BadArgument(f"the workspace is not in a git repository, so there is no "
                              f"revision {ref!r} to compare with; pass files or path:line")
        # git's own reason is its `fatal:` line; usage text may come before or after it
        reason = next((line for line in lines if line.startswith(("fatal:", "error:"))),
                      lines[0] if lines else "unknown error")
        raise BadArgument(f"git diff {ref} failed: {reason}")
    changes: dict[str, list[tuple[int, int]]] = {}
    current: str | None = None
    for line in out.decode("utf-8", errors="replace").splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = name[2:] if name.startswith("b/") else None
        elif current is not None and line.startswith("@@"):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or "1")
                changes.setdefault(current, []).append((start, start + max(count, 1) - 1))
    return changes


async def impact(engine: Engine, *, files: Sequence[str] = (), symbols: Sequence[str] = (),
                 git_ref: str | None = None, depth: int = 2) -> ImpactView:
    """The changed symbols (given, in given files, or changed since a git ref), their
    transitive callers up to `depth`, and which of them have SIRs to look at again."""
    check_depth(depth)
    given = [bool(files), bool(symbols), git_ref is not None]
    if sum(given) != 1:
        raise BadArgument("pass exactly one of: files, symbols, or git_ref")
    root = engine.settings.workspace
    changed: list[SymbolRecord] = []
    if symbols:
        for target in symbols:
            changed.append(await engine.resolve(target))
    elif files:
        for f in files:
            rel = resolve_in_workspace(root, f)
            if not (root / rel).exists() and not await engine.store.symbols_in_file(rel):
                raise UnknownTarget(f"no such file in the workspace: {rel}")
            changed.extend(await engine.store.symbols_in_file(rel))
    else:
        assert git_ref is not None
        for rel, ranges in (await _git_changes(root, git_ref)).items():
            for r in await engine.store.symbols_in_file(rel):
                if any(lo <= r.end_line and hi >= r.start_line for lo, hi in ranges):
                    changed.append(r)
    changed = list({r.id: r for r in changed}.values())
    seen = {r.id for r in changed}
    frontier = [r.id for r in changed]
    callers_out: list[tuple[str, int, str]] = []  # (caller id, depth, via)
    all_edges: list[Edge] = []
    truncated = False
    for level in range(1, depth + 1):
        nxt: list[str] = []
        for sid in frontier:
            edges = await engine.store.edges_into(sid, MAX_EDGES + 1)
            all_edges.extend(edges)
            for e in edges:
                if e.caller_id in seen:
                    continue
                if len(callers_out) >= MAX_EDGES:
                    truncated = True
                    break
                seen.add(e.caller_id)
                callers_out.append((e.caller_id, level, sid))
                nxt.append(e.caller_id)
        frontier = nxt
        if not frontier or truncated:
            break
    records = {r.id: r for r in await engine.store.symbols([c for c, _, _ in callers_out])}
    changed_views = [ImpactedSymbol(symbol=symbol_brief(r), depth=0) for r in changed]
    caller_views = [ImpactedSymbol(symbol=symbol_brief(records[c]), depth=lvl, via=via)
                    for c, lvl, via in callers_out if c in records]
    attention = [v.symbol for v in changed_views + caller_views if v.symbol.sir_status != "ok"]
    source = "symbols" if symbols else "files" if files else "git_ref"
    note = None if changed else "nothing indexed changed"
    return ImpactView(source=source, git_ref=git_ref, depth=depth,  # type: ignore[arg-type]
                      changed=changed_views, callers=caller_views, needs_attention=attention,
                      coverage=_coverage(all_edges, truncated,
                                         not await engine.store.graph_pending()),
                      note=note)


# ---------------------------------------------------------------------------- context


async def context(engine: Engine, record: SymbolRecord, max_tokens: int = 4000) -> ContextView:
    """One answer for an agent: the symbol's SIR and status, its source, and its direct
    callers and callees with their intents, packed to `max_tokens` (source cut first)."""
    check_tokens(max_tokens)
    who_calls = await callers(engine, record, 1)
    what_called = await callees(engine, record, 1)
    caller_briefs = list({e.caller.symbol_id: e.caller for e in who_calls.callers
                          if e.caller}.values())
    callee_briefs = list({e.target.symbol_id: e.target for e in what_called.callees
                          if e.target}.values())
    sir = record.sir_dict
    fixed = json.dumps(sir) if sir else ""
    truncated = False

    def size(briefs: list[SymbolBrief]) -> int:
        return sum(tokens_of(f"{b.qualified_name} {b.file_path}:{b.start_line} {b.intent or ''}")
                   for b in briefs)

    budget = max_tokens - tokens_of(fixed) - tokens_of(record.signature)
    # the neighbours' lines go first: cut them to half the budget before the source
    while caller_briefs and callee_briefs and size(caller_briefs + callee_briefs) > budget // 2:
        (caller_briefs if len(caller_briefs) >= len(callee_briefs) else callee_briefs).pop()
        truncated = True
    for briefs in (caller_briefs, callee_briefs):
        while briefs and size(caller_briefs + callee_briefs) > budget // 2:
            briefs.pop()
            truncated = True
    left = budget - size(caller_briefs + callee_briefs)
    text, source_truncated = "", True
    if left > 0:
        src = await source(engine, record, max_tokens=left)
        text, source_truncated = src.source, src.truncated
    truncated = truncated or source_truncated
    used = (tokens_of(fixed) + tokens_of(record.signature) + tokens_of(text)
            + size(caller_briefs + callee_briefs))
    coverage = who_calls.coverage
    return ContextView(symbol=symbol_brief(record), sir=sir, warning=context_warning(record),
                       source=text, source_truncated=source_truncated, callers=caller_briefs,
                       callees=callee_briefs, callers_answer=who_calls.answer,
                       max_tokens=max_tokens, tokens_used=used, truncated=truncated,
                       coverage=coverage)
