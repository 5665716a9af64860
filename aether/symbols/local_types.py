"""What type a local variable holds, where the code says so plainly, so that a call on it
resolves through its class: `r = Request(); r.prepare()` calls `Request.prepare`, not "some
`prepare`" (Python, JavaScript, TypeScript).

A variable is typed only when its function binds it exactly once, in one of these ways:

- an instance made there: `r = Request(...)`, `r = models.Request(...)` (Python: a called
  name that starts with a capital letter), `const r = new Request(...)`;
- an annotation: `def f(r: Request)`, `r: Request = ...`, `function f(r: Request)`,
  `let r: Request`.

"Exactly once" is checked on the function's text (any other `r = ...`, `for r in`, `as r`
makes it untyped), so a variable that is rebound, in a branch or a loop, is never guessed.
Only the receiver's resolution changes: the call site keeps the callee as written, and a
type whose method cannot be found falls back to the name-based answer
(aether.engine.graph_resolve).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence

from tree_sitter import Node

from aether.symbols.definitions import Definition, node_text
from aether.symbols.model import CallSite

TYPED_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx"})

_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_NAME_NODES = frozenset({"identifier", "type_identifier", "attribute", "member_expression",
                         "nested_type_identifier"})


def _type_text(source: bytes, node: Node | None) -> str | None:
    """A plain (dotted) type name, or None for anything else (generics, unions, calls)."""
    if node is None:
        return None
    if node.type in ("type", "type_annotation"):
        named = [c for c in node.children if c.is_named]
        if len(named) != 1:
            return None
        node = named[0]
    if node.type not in _NAME_NODES:
        return None
    text = node_text(source, node)
    return text if _DOTTED.fullmatch(text) else None


def _binding(source: bytes, node: Node) -> tuple[str, str, bool] | None:
    """(variable, type, written with `=`) for one captured `@bind` node."""
    kind = node.type
    if kind == "assignment":  # Python: r = Request(...) / r: Request = ...
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or left.type != "identifier":
            return None
        typed = _type_text(source, node.child_by_field_name("type"))
        if typed is None and right is not None and right.type == "call":
            typed = _type_text(source, right.child_by_field_name("function"))
            if typed is None or not typed.rpartition(".")[2][:1].isupper():
                return None  # a function's result: its type is unknown
        return (node_text(source, left), typed, right is not None) if typed else None
    if kind in ("typed_parameter", "typed_default_parameter"):  # Python parameters
        name = node.child_by_field_name("name")
        if name is None:
            name = next((c for c in node.children if c.type == "identifier"), None)
        typed = _type_text(source, node.child_by_field_name("type"))
        if name is None or name.type != "identifier" or typed is None:
            return None
        return node_text(source, name), typed, kind == "typed_default_parameter"
    if kind in ("variable_declarator", "assignment_expression"):  # JS/TS
        name = node.child_by_field_name("name" if kind == "variable_declarator" else "left")
        value = node.child_by_field_name("value" if kind == "variable_declarator" else "right")
        if name is None or name.type != "identifier":
            return None
        typed = _type_text(source, node.child_by_field_name("type"))
        if value is not None and value.type == "new_expression":
            typed = _type_text(source, value.child_by_field_name("constructor")) or typed
        return (node_text(source, name), typed, value is not None) if typed else None
    if kind in ("required_parameter", "optional_parameter"):  # TypeScript parameters
        name = node.child_by_field_name("pattern")
        typed = _type_text(source, node.child_by_field_name("type"))
        if name is None or name.type != "identifier" or typed is None:
            return None
        return node_text(source, name), typed, node.child_by_field_name("value") is not None
    return None


# Every way a function's text may bind a name with a value. An over-count is safe (the name
# is left untyped): a keyword argument `f(r=1)` counts too. An annotation is read up to a
# comma or a bracket, so that the next parameter's default is not taken for this one's.
_PY_BINDS = re.compile(
    rb"(?<![\w.])([A-Za-z_]\w*)\s*(?::[^=\n,()]*)?(?<![=!<>])=(?!=)"  # r = / r: T =
    rb"|(?<![\w.])([A-Za-z_]\w*)\s*:="  # (r := ...)
    rb"|\bas\s+([A-Za-z_]\w*)"  # with ... as r / except E as r
    rb"|\bfor\s+([\w\s,()\[\]]+?)\s+in\b")  # for r in / for k, r in
_ECMA_BINDS = re.compile(
    rb"(?<![\w.$])([A-Za-z_$][\w$]*)\s*(?::[^=;\n(){}]*)?(?<![=!<>])=(?![=>])"
    rb"|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s+(?:of|in)\b")
_WORD = re.compile(rb"[A-Za-z_$][\w$]*")


def _bindings(language: str, body: bytes) -> Counter[bytes]:
    """How many times the text binds each name."""
    counts: Counter[bytes] = Counter()
    for groups in (_PY_BINDS if language == "python" else _ECMA_BINDS).findall(body):
        for group in groups:
            if group:
                counts.update(_WORD.findall(group))
    return counts


def typed_receivers(sites: list[CallSite], source: bytes, definitions: Sequence[Definition],
                    binds: Sequence[Node], language: str) -> list[CallSite]:
    """`sites` with each call on a typed local variable qualified by the variable's type
    (`r.prepare` keeps its callee; its qualifier `r` becomes `Request`). Only variables that
    some call is made on are looked at."""
    if language not in TYPED_LANGUAGES or not binds:
        return sites
    index = {d.symbol.id: i for i, d in enumerate(definitions)}
    wanted: dict[tuple[int, str], list[int]] = {}  # (definition, variable) -> its calls
    for k, site in enumerate(sites):
        if site.receiver == "qualified" and site.kind == "call" and "." not in site.qualifier:
            wanted.setdefault((index.get(site.caller_id, -1), site.qualifier), []).append(k)
    if not wanted:
        return sites
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    parents = [d.parent for d in definitions]
    bound: dict[tuple[int, str], list[tuple[str, bool]]] = {}
    spans: set[tuple[int, int]] = set()  # a node two patterns match is one binding
    names = {var.encode() for _i, var in wanted}
    for node in binds:
        start, end = node.start_byte, node.end_byte
        first = node.child(0)  # the bound name, in every `@bind` pattern
        if first is None or source[first.start_byte:first.end_byte] not in names:
            continue
        if (start, end) in spans:
            continue
        spans.add((start, end))
        i = bisect_right(starts, start) - 1
        while i >= 0 and ends[i] < end:
            i = parents[i]
        binding = _binding(source, node) if i >= 0 else None
        if binding is not None and (i, binding[0]) in wanted:
            bound.setdefault((i, binding[0]), []).append(binding[1:])
    out = list(sites)
    counted: dict[int, Counter[bytes]] = {}
    for (i, var), typings in bound.items():
        if len(typings) != 1:
            continue
        typed, assigned = typings[0]
        counts = counted.get(i)
        if counts is None:
            symbol = definitions[i].symbol
            counts = counted[i] = _bindings(language, source[symbol.start_byte:symbol.end_byte])
        if counts[var.encode()] != int(assigned):
            continue  # bound again somewhere: its type is not one thing
        for k in wanted[(i, var)]:
            out[k] = out[k]._replace(qualifier=typed)
    return out
