"""What a file says about its own types, for the call graph to follow calls across files:
the type each function returns, the base classes of each class and the type of each
module-level variable bound once (Python, JavaScript, TypeScript).

- A function returns a type when its return annotation is one plain (dotted) name
  (`-> RequestContext`, `-> "Foo"`, TypeScript `): Box`), or, with no annotation, when every
  `return` in its text returns an instance made there of one class (`return Session(...)`,
  `return new Box()`, `return cls(...)` in a class's method: that class), or every `return`
  is `return self` (`-> Self` too: the method's class). A generic, a union, an `Optional`,
  a generator or any other `return` leaves it unknown.
- A class's bases are its plain (dotted) base class names as written (`class A(Base,
  mod.B)`, `class A extends B`); `metaclass=`, generics and calls are left out.

Both are names as written in the file: the engine resolves them through the file's own
imports (aether.engine.graph_resolve). They travel with the file's import bindings under
keys no import can bind (aether.store.graph_records): `Q()` -> the type function `Q`
returns, `Q.__bases__` -> its bases, comma-separated, `v.__class__` -> variable v's type.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from tree_sitter import Node

from aether.store.graph_records import BASES, CLASS_OF, RETURNS
from aether.symbols.definitions import Definition, node_text
from aether.symbols.local_types import RESULT, TYPED_LANGUAGES, binding_of, binds_in, type_text

_FUNCTION_KINDS = frozenset({"function", "method"})
_CLASS_NODES = frozenset({"class_definition", "class_declaration", "class",
                          "abstract_class_declaration"})
_RETURN_WORD = re.compile(rb"\breturn\b")
_RETURN_SELF = re.compile(rb"\breturn\s+(?:self|this)\s*(?:[;\n}#]|$)")
_SELF_TYPES = frozenset({"Self", "t.Self", "typing.Self", "te.Self", "this"})
_YIELD_WORD = re.compile(rb"\byield\b")
_PLAIN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")


def type_facts(source: bytes, definitions: Sequence[Definition],
               captures: dict[str, list[Node]], language: str) -> dict[str, str]:
    """The file's return types and base classes, as bindings entries (see above)."""
    if language not in TYPED_LANGUAGES:
        return {}
    out = _module_variables(source, captures.get("bind", ()))
    if not definitions:
        return out
    made = _constructors_returned(source, definitions, captures, language)
    for i, d in enumerate(definitions):
        symbol = d.symbol
        if symbol.kind in _FUNCTION_KINDS and d.fn is not None:
            returned = _annotated(source, d.fn.child_by_field_name("return_type"))
            if returned in _SELF_TYPES or (returned is not None and "." not in returned
                                           and _self_typed_as(source, d, returned)):
                returned = _owner(d, definitions)  # `-> Self`, `(self: T) -> T`
            elif returned is None and i in made:
                returned = _only_instance(source, d, made[i], definitions)
            elif returned is None and d.parent >= 0:
                returned = _only_self(source, d, definitions)
            if returned is not None and returned not in _NOT_OURS:
                out[symbol.qualified_name + RETURNS] = returned
        elif d.node.type in _CLASS_NODES:
            bases = _bases(source, d.node)
            if bases:
                out[symbol.qualified_name + BASES] = ",".join(bases)
    return out


# types no workspace class can be: not worth a bindings entry (most annotations are these)
_NOT_OURS = frozenset({
    "str", "int", "float", "bool", "bytes", "bytearray", "complex", "None", "dict", "list",
    "set", "frozenset", "tuple", "object", "type", "Any", "t.Any", "typing.Any", "NoReturn",
    "string", "number", "boolean", "void", "any", "unknown", "never", "undefined", "null",
    "bigint", "symbol",
})
_TOP = frozenset({"module", "program"})
_DECLARED = re.compile(rb"(?:export\s+)?(?:const|let|var)\s+")  # before a JS/TS declarator
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})


def _module_variables(source: bytes, binds: Sequence[Node]) -> dict[str, str]:
    """`name.__class__` -> the type of a module-level variable bound once, to an instance or
    with an annotation (`request_ctx: RequestContext = LocalProxy(...)`, `app =
    Flask(__name__)`, `export const store = new Store()`)."""
    types: dict[str, set[str]] = {}
    assigned: dict[str, int] = {}
    for node in binds:
        # asked before any parent walk (slow): a module-level statement is not indented
        if node.start_point.column != 0:
            line = source.rfind(b"\n", 0, node.start_byte) + 1
            if not _DECLARED.fullmatch(source, line, node.start_byte):
                continue
        parent = node.parent
        if parent is None:
            continue
        if parent.type in _DECLARATIONS or parent.type == "expression_statement":
            parent = parent.parent
            if parent is not None and parent.type == "export_statement":
                parent = parent.parent
        if parent is None or parent.type not in _TOP:
            continue
        found = binding_of(source, node)
        if found is None or "." in found[0] or found[1].endswith(RESULT):
            continue
        name, typed, with_value = found
        types.setdefault(name, set()).add(typed)
        assigned[name] = assigned.get(name, 0) + with_value
    out: dict[str, str] = {}
    for name, typed_as in types.items():
        # bound elsewhere in the file too (a function's own `name = ...` counts: never
        # fewer), or to two types: not one thing
        typed = next(iter(typed_as))
        if (len(typed_as) == 1 and typed not in _NOT_OURS
                and binds_in(source, name) <= assigned[name]):
            out[name + CLASS_OF] = typed
    return out


def _annotated(source: bytes, node: Node | None) -> str | None:
    """`-> Foo`, `-> mod.Foo`, `-> "Foo"`, `: Box`; None for anything else."""
    if node is None:
        return None
    found = type_text(source, node)
    if found is not None:
        return found
    named = [c for c in node.children if c.is_named] if node.type == "type" else []
    if len(named) == 1 and named[0].type == "string":  # a forward reference
        text = node_text(source, named[0]).strip("\"'")
        return text if _PLAIN.fullmatch(text) else None
    return None


def _constructors_returned(source: bytes, definitions: Sequence[Definition],
                           captures: dict[str, list[Node]], language: str
                           ) -> dict[int, list[str]]:
    """Definition index -> the callees of `return Name(...)` / `return new Name()` in it
    (the innermost definition around each)."""
    nodes = captures.get("bind.returns")  # the called name of `return Name(...)`
    if not nodes:
        return {}
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    out: dict[int, list[str]] = {}
    for node in nodes:
        i = bisect_right(starts, node.start_byte) - 1
        while i >= 0 and ends[i] < node.end_byte:
            i = definitions[i].parent
        if i >= 0:
            out.setdefault(i, []).append(node_text(source, node))
    return out


def _only_instance(source: bytes, d: Definition, made: list[str],
                   definitions: Sequence[Definition]) -> str | None:
    """The class every `return` of `d` makes an instance of, or None."""
    names = {_class_of(name, d, definitions) for name in made}
    if len(names) != 1:
        return None
    (name,) = names
    if name is None:
        return None
    text = source[d.symbol.start_byte:d.symbol.end_byte]
    # every `return` is one of those (nested functions' returns count too: never fewer)
    if len(_RETURN_WORD.findall(text)) != len(made) or _YIELD_WORD.search(text):
        return None
    return name


def _only_self(source: bytes, d: Definition, definitions: Sequence[Definition]
               ) -> str | None:
    """A method whose every `return` is `return self` (a fluent setter, `__enter__`): its
    class."""
    if source.find(b"return self", d.symbol.start_byte, d.symbol.end_byte) < 0:
        return None
    text = source[d.symbol.start_byte:d.symbol.end_byte]
    selves = len(_RETURN_SELF.findall(text))
    if selves == 0 or len(_RETURN_WORD.findall(text)) != selves or _YIELD_WORD.search(text):
        return None
    return _owner(d, definitions)


def _self_typed_as(source: bytes, d: Definition, name: str) -> bool:
    """`def __enter__(self: T) -> T`: the first parameter is annotated with `name` (a type
    variable bound to the instance's own class)."""
    if d.parent < 0 or d.fn is None:
        return False
    params = d.fn.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_child_count else None
    if first is None or first.type != "typed_parameter":
        return False
    return type_text(source, first.child_by_field_name("type")) == name


def _owner(d: Definition, definitions: Sequence[Definition]) -> str | None:
    """The class a method belongs to."""
    owner = definitions[d.parent] if d.parent >= 0 else None
    return owner.symbol.qualified_name if owner is not None and (
        owner.node.type in _CLASS_NODES) else None


def _class_of(callee: str, d: Definition, definitions: Sequence[Definition]) -> str | None:
    """`Session` -> Session; `cls` -> the enclosing class; a lower-case name (a function,
    whose result is not known here) -> None."""
    if callee == "cls" and d.parent >= 0:
        owner = definitions[d.parent]
        return owner.symbol.qualified_name if owner.node.type in _CLASS_NODES else None
    if _PLAIN.fullmatch(callee) and callee.rpartition(".")[2][:1].isupper():
        return callee
    return None


def _bases(source: bytes, node: Node) -> list[str]:
    """A class's plain base class names, in order."""
    out: list[str] = []
    listed = node.child_by_field_name("superclasses")  # Python
    if listed is not None:
        for child in listed.named_children:
            text = type_text(source, child)
            if text is not None and text != "object":
                out.append(text)
        return out
    for child in node.children:
        if child.type != "class_heritage":
            continue
        for part in child.named_children:
            if part.type == "extends_clause":  # TypeScript
                value = part.child_by_field_name("value")
                text = type_text(source, value)
                if text is not None:
                    out.append(text)
            elif part.type in ("identifier", "member_expression"):  # JavaScript
                text = type_text(source, part)
                if text is not None:
                    out.append(text)
    return out
