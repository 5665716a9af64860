"""Facts for the static analyser: the captures of the combined query (calls, raise/throw,
returns, except/catch, environment, module-state writes), each handed to its innermost
enclosing symbol by byte range (sorted starts + bisect), never by walking the tree in Python.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from aether.sir.static_calls import CallInfo, CallTable, normalise_callee
from aether.sir.static_rules import GLOBAL_STATE, MODIFIES_ENV, READS_ENV
from aether.symbols.definitions import Definition, node_text
from aether.symbols.extract import ParsedSource

MAX_EXPR = 40

_EXCEPTION_NAME = re.compile(r"\\?[A-Za-z_$][\w$.:\\]*")
# Calls whose captured node is the method's name: the callee runs from the call's start
# (`Files.readAllBytes`, `$this->client->send`, `File.read`).
_NAMED_CALLS = frozenset({"method_invocation", "call", "member_call_expression",
                          "scoped_call_expression", "nullsafe_member_call_expression"})
_NAMED_CALL_LANGUAGES = frozenset({"java", "ruby", "php"})
_GLOBAL_OBJECTS = frozenset({"window", "globalThis", "global"})
_NO_VALUE = frozenset({"None", "null", "undefined", "nil"})
_CALL_TYPES = frozenset({"call", "call_expression"})
_ASSIGNMENTS = frozenset({"assignment", "augmented_assignment", "assignment_expression"})


@dataclass(slots=True)
class Facts:
    """What one symbol's own body does (nested symbols keep their own)."""

    # Captures come in no fixed order (it varies from run to run), so whatever is cut to a
    # few items remembers where it first occurs and is sorted by that.
    calls: dict[CallInfo, int] = field(default_factory=dict)  # -> first byte offset
    effects: dict[str, dict[str, None]] = field(default_factory=dict)  # label -> examples
    errors: dict[str, None] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)  # expression -> first byte offset
    yields: dict[str, int] = field(default_factory=dict)
    mutated: dict[str, None] = field(default_factory=dict)  # module-level names written

    def call(self, info: CallInfo, at: int) -> None:
        seen = self.calls.get(info)
        if seen is None or at < seen:
            self.calls[info] = at

    def effect(self, label: str, example: str) -> None:
        self.effects.setdefault(label, {})[example] = None

    def merged(self, others: list[Facts]) -> Facts:
        """These facts plus those of nested symbols (own returns/yields only)."""
        out = Facts(dict(self.calls), {k: dict(v) for k, v in self.effects.items()},
                    dict(self.errors), self.returns, self.yields, dict(self.mutated))
        for other in others:
            for info, at in other.calls.items():
                out.call(info, at)
            out.errors.update(other.errors)
            out.mutated.update(other.mutated)
            for label, examples in other.effects.items():
                out.effects.setdefault(label, {}).update(examples)
        return out


class _Owners:
    """Maps a byte range to the innermost symbol enclosing it (-1 for none)."""

    def __init__(self, definitions: list[Definition]) -> None:
        self.starts = [d.symbol.start_byte for d in definitions]
        self.ends = [d.symbol.end_byte for d in definitions]
        self.parents = [d.parent for d in definitions]

    def __call__(self, start: int, end: int) -> int:
        i = bisect_right(self.starts, start) - 1
        ends, parents = self.ends, self.parents
        while i >= 0 and ends[i] < end:
            i = parents[i]
        return i


class _Boundaries:
    """Anonymous functions (lambdas, closures, callbacks): a `return` inside one is not a
    return of the symbol around it."""

    def __init__(self, nodes: list[Node]) -> None:
        spans = sorted((n.start_byte, n.end_byte) for n in nodes)
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def hides(self, start: int, end: int, function_start: int) -> bool:
        j = bisect_right(self.starts, start) - 1
        while j >= 0 and self.starts[j] > function_start:
            if self.ends[j] >= end:
                return True
            j -= 1
        return False


class FileFacts:
    """Per-file state the capture handlers share."""

    def __init__(self, parsed: ParsedSource, module_names: set[str]) -> None:
        self.language = parsed.language
        self.source = parsed.source
        self.calls = CallTable(parsed.language, parsed.source, parsed.imports, module_names)
        self.docstrings: dict[int, Node] = {}  # symbol index -> Python docstring literal

    def text(self, node: Node) -> str:
        return node_text(self.source, node)

    def expression(self, node: Node) -> str:
        """A returned/yielded expression, short enough for a list item."""
        text = " ".join(self.text(node).split())
        if len(text) <= MAX_EXPR:
            return text
        if node.type in _CALL_TYPES:
            function = node.child_by_field_name("function")
            if function is not None:
                callee = normalise_callee(self.text(function))
                if len(callee) <= MAX_EXPR:
                    return f"{callee}(...)"
        return "a value"


def _exception_name(f: FileFacts, node: Node | None) -> str:
    """`ValueError("x")`, `new IOException(e)`, `self.error(...)`, `err` -> the name."""
    if node is None:
        return ""
    text = f.text(node).lstrip()
    if text.startswith("new "):
        text = text[4:].lstrip()
    match = _EXCEPTION_NAME.match(text)
    return match.group(0).rstrip(".:") if match else ""


def _on_raise(f: FileFacts, facts: Facts, node: Node) -> None:
    value = node.named_child(0) if node.named_child_count else None
    if value is not None and value.type == "throw_keyword":  # Swift
        value = value.next_named_sibling
    if f.language == "python":
        if value is None:
            facts.errors["re-raises the current exception"] = None
        else:
            name = _exception_name(f, value)
            facts.errors[f"raises {name}" if name else "raises an exception"] = None
    else:
        name = _exception_name(f, value)
        facts.errors[f"throws {name}" if name else "throws"] = None


def _on_except(f: FileFacts, facts: Facts, node: Node) -> None:
    if f.language != "python":
        facts.errors["catches errors"] = None
        return
    value = node.child_by_field_name("value")
    if value is not None and value.type == "as_pattern":
        value = value.named_child(0)
    if value is None:
        facts.errors["catches all exceptions"] = None
        return
    names = value.named_children if value.type in ("tuple", "parenthesized_expression") \
        else [value]
    for name in names:
        facts.errors[f"catches {' '.join(f.text(name).split())}"] = None


def _on_global(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.effect(GLOBAL_STATE, "global " + ", ".join(f.text(n) for n in node.named_children))


def _on_nonlocal(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.effect("rebinds enclosing variables",
                 "nonlocal " + ", ".join(f.text(n) for n in node.named_children))


def _on_assert(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.errors["raises AssertionError (assert)"] = None


def _on_env(f: FileFacts, facts: Facts, node: Node) -> None:
    want = "os.environ" if f.language == "python" else "process.env"
    if node.end_byte - node.start_byte != len(want) or f.text(node) != want:
        return  # most candidates are other attributes: the length test is the cheap filter
    holder = node.parent
    target = holder.parent if holder is not None else None
    if (holder is not None and target is not None and target.type in _ASSIGNMENTS
            and target.child_by_field_name("left") == holder):
        facts.effect(MODIFIES_ENV, want)
    else:
        facts.effect(READS_ENV, want)


def _on_mutate(f: FileFacts, facts: Facts, node: Node) -> None:
    name = f.text(node)
    if name in _GLOBAL_OBJECTS:
        parent = node.parent
        example = " ".join(f.text(parent).split()) if parent is not None else name
        facts.effect(GLOBAL_STATE, example[:MAX_EXPR])
    elif name in f.calls.module_names:
        facts.mutated[name] = None


def _on_new(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.call(f.calls.info(f.source[node.start_byte:node.end_byte]), node.start_byte)


def _on_macro(f: FileFacts, facts: Facts, node: Node) -> None:
    info = f.calls.macro(f.text(node) + "!")
    if info.effect is not None or info.error is not None:
        facts.call(info, node.start_byte)


def _on_try(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.errors["propagates errors with try" if f.language == "swift"
                 else "propagates errors with ?"] = None


def _on_throws(f: FileFacts, facts: Facts, node: Node) -> None:
    """Java `throws IOException, SQLException`: declared, so part of the contract."""
    names = [f.text(n) for n in node.named_children if n.type != "comment"]
    for name in names or ["errors"]:
        facts.errors[f"throws {name}"] = None


def _on_goroutine(f: FileFacts, facts: Facts, node: Node) -> None:
    facts.effect("starts goroutines", "go")


def _first_seen(seen: dict[str, int], key: str, at: int) -> None:
    previous = seen.get(key)
    if previous is None or at < previous:
        seen[key] = at


def _on_return(f: FileFacts, facts: Facts, node: Node) -> None:
    if f.language == "swift":  # `throw e` is a control transfer statement too
        first = node.parent.child(0) if node.parent is not None else None
        if first is not None and first.type == "throw_keyword":
            return
    text = f.expression(node)
    if text not in _NO_VALUE:
        _first_seen(facts.returns, text, node.start_byte)


def _on_yield(f: FileFacts, facts: Facts, node: Node) -> None:
    value = node.named_child(node.named_child_count - 1) if node.named_child_count else None
    _first_seen(facts.yields, f.expression(value) if value is not None else "None",
                node.start_byte)


def _on_return_last(f: FileFacts, facts: Facts, node: Node) -> None:
    """Go: `return ..., err`."""
    if node.type == "identifier":
        name = f.text(node)
        if name == "err" or name.endswith(("Err", "Error", "err")):
            facts.errors["returns error"] = None


_Handler = Callable[[FileFacts, Facts, Node], None]
_HANDLERS: dict[str, _Handler] = {
    "new": _on_new, "macro": _on_macro, "raise": _on_raise, "except": _on_except,
    "global": _on_global, "nonlocal": _on_nonlocal, "assert": _on_assert, "env": _on_env,
    "mutate": _on_mutate, "goroutine": _on_goroutine, "throws": _on_throws,
}
# Captures that belong to the function they are written in, not to a closure inside it.
_SCOPED_HANDLERS: dict[str, _Handler] = {
    "return": _on_return, "yield": _on_yield, "return_last": _on_return_last, "try": _on_try,
}


def _collect_calls(f: FileFacts, owner: _Owners, facts: list[Facts], nodes: list[Node]) -> None:
    """The hot loop (calls are most captures): bytes-keyed cache, no per-call allocation."""
    source, info_of = f.source, f.calls.info
    starts, ends, parents = owner.starts, owner.ends, owner.parents
    cache: dict[bytes, CallInfo] = {}
    named = f.language in _NAMED_CALL_LANGUAGES
    for node in nodes:
        start, end = node.start_byte, node.end_byte
        if named:
            call = node.parent
            if call is not None and call.type in _NAMED_CALLS:
                start = call.start_byte
        i = bisect_right(starts, start) - 1
        while i >= 0 and ends[i] < end:
            i = parents[i]
        if i < 0:
            continue
        raw = source[start:end]
        info = cache.get(raw)
        if info is None:
            info = cache[raw] = info_of(raw)
        if info.mode_sensitive:  # Python open(): read or write depends on its mode
            facts[i].effect(f.calls.open_effect(node), info.resolved)
            continue
        calls = facts[i].calls  # Facts.call(), inlined: this loop is the hottest one
        seen = calls.get(info)
        if seen is None or start < seen:
            calls[info] = start


def _prefiltered(f: FileFacts, name: str, nodes: list[Node]) -> list[Node]:
    """Drop the many candidates that cannot matter before the (dearer) owner lookup."""
    if name == "env":  # any attribute in a subscript or comparison: keep os.environ's length
        size = len("os.environ" if f.language == "python" else "process.env")
        return [n for n in nodes if n.end_byte - n.start_byte == size]
    if name == "mutate":  # any assigned name: keep module-level and global objects
        wanted = f.calls.module_names | _GLOBAL_OBJECTS
        return [n for n in nodes if f.text(n) in wanted]
    return nodes


def collect_facts(parsed: ParsedSource) -> tuple[list[Facts], FileFacts]:
    """Each symbol's own facts, from the captures of the combined query."""
    definitions = parsed.definitions
    captures = parsed.captures
    source = parsed.source
    module_names = {node_text(source, n) for n in captures.get("module_name", ())}
    f = FileFacts(parsed, module_names)
    facts = [Facts() for _ in definitions]
    if not definitions:
        return facts, f
    owner = _Owners(definitions)
    _collect_calls(f, owner, facts, captures.get("call", []))
    boundaries = _Boundaries(captures.get("boundary", []))
    fn_starts = [d.fn.start_byte if d.fn is not None else d.symbol.start_byte
                 for d in definitions]
    for node in captures.get("doc", ()):
        i = owner(node.start_byte, node.end_byte)
        if i >= 0:
            f.docstrings[i] = node
    for name, nodes in captures.items():
        nodes = _prefiltered(f, name, nodes)
        scoped = name in _SCOPED_HANDLERS
        handler = _SCOPED_HANDLERS.get(name) if scoped else _HANDLERS.get(name)
        if handler is None:
            continue
        for node in nodes:
            start, end = node.start_byte, node.end_byte
            i = owner(start, end)
            if i < 0 or (scoped and boundaries.hides(start, end, fn_starts[i])):
                continue
            handler(f, facts[i], node)
    return facts, f
