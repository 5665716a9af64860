"""What type a variable or an attribute holds, where the code says so plainly, so that a call
on it resolves through its class: `r = Request(); r.prepare()` calls `Request.prepare`, not
"some `prepare`" (Python, JavaScript, TypeScript).

Two kinds of receivers are typed:

- a local variable, from its bindings in its function: an instance made there
  (`r = Request(...)`, `r = models.Request(...)` (Python: a called name that starts with a
  capital letter), `const r = new Request(...)`) or an annotation (`def f(r: Request)`,
  `r: Request = ...`, `function f(r: Request)`, `let r: Request`), or a function's result
  (`s = make_session()`, `ctx = self.request_context(env)`, `const b = makeBox()`): then the
  qualifier is the function as written with `()` after it, and the engine gives the variable
  the type that function returns, if its definition says (aether.symbols.type_facts);
- an attribute of the class a method belongs to (`self.session.get()`, `this.box.fill()`),
  from its bindings in the class: `self.session = Session()`, `self.json: JSONProvider =
  ...`, a class-level `session: Session`, `this.box = new Box()`, a TypeScript field
  `private box: Box`.

Every binding found must name the same type, and the text of the function (or the class)
must bind the name with a value no more often than those bindings do: any other `r = ...`,
`for r in`, `as r` (`with Session() as r`), `self.session = a or b` leaves it untyped, so a
name rebound to something else, in a branch or a loop, is never guessed. Only the
receiver's resolution changes: the call site keeps the callee as written, and a type whose
method cannot be found falls back to the name-based answer (aether.engine.graph_resolve).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Container, Sequence

from tree_sitter import Node

from aether.symbols.definitions import Definition, node_text
from aether.symbols.model import CallSite

TYPED_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx"})
# A qualifier `f()` (`make_session()`, `self.request_context()`): the variable holds what
# calling `f` returns, which the engine looks up where `f` is defined (its file's
# aether.symbols.type_facts).
RESULT = "()"
# `self.ctx = ctx`: the attribute holds what parameter `ctx` of the method holds (typed by
# its annotation, if it has one); marked `=ctx` until the parameters are read
PARAMETER = "="
_PARAMETERS = frozenset({"typed_parameter", "typed_default_parameter", "required_parameter",
                         "optional_parameter"})
_SELF = frozenset({"self", "this"})
_MODIFIERS = frozenset({"accessibility_modifier", "readonly", "override_modifier"})
_TS_PARAMETERS = frozenset({"required_parameter", "optional_parameter"})
_CLASS_KINDS = frozenset({"class"})

_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_NAME_NODES = frozenset({"identifier", "type_identifier", "attribute", "member_expression",
                         "nested_type_identifier"})


def type_text(source: bytes, node: Node | None) -> str | None:
    """A plain (dotted) type name, or None for anything else (generics, unions, calls)."""
    if node is None:
        return None
    if node.type in ("type", "type_annotation"):
        named = [c for c in node.children if c.is_named]
        if len(named) != 1:
            return None
        node = named[0]
    if node.type in _WRAPPED_NODES:
        return _unwrapped("".join(node_text(source, node).split()))
    if node.type not in _NAME_NODES:
        return None
    text = node_text(source, node)
    return text if _DOTTED.fullmatch(text) else None


# `Optional[X]`, `X | None`, `"X"`, TS `X | null`: a method called on such a value is X's
# (or the call fails), so the receiver is typed X
_WRAPPED_NODES = frozenset({"subscript", "generic_type", "binary_operator", "string",
                            "union_type"})
_OPTIONAL = re.compile(r"(?:(?:t|typing|te)\.)?Optional\[(.+)\]")
_OR_NONE = re.compile(r"(.+)\|(?:None|null|undefined)|(?:None|null|undefined)\|(.+)")


def _unwrapped(text: str) -> str | None:
    for _ in range(3):
        if _DOTTED.fullmatch(text):
            return text
        if len(text) > 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
            continue
        found = _OPTIONAL.fullmatch(text) or _OR_NONE.fullmatch(text)
        if found is None:
            return None
        text = found.group(1) or found.group(2)
    return text if _DOTTED.fullmatch(text) else None


def _target(source: bytes, node: Node | None) -> str | None:
    """The bound name: `r`, or `self.x` for an attribute of `self`/`this`."""
    if node is None:
        return None
    if node.type == "identifier":
        return node_text(source, node)
    if node.type in ("attribute", "member_expression"):
        owner = node.child_by_field_name("object")
        member = node.child_by_field_name("attribute" if node.type == "attribute"
                                          else "property")
        if owner is not None and member is not None and node_text(source, owner) in _SELF:
            return f"self.{node_text(source, member)}"
    return None


def binding_of(source: bytes, node: Node) -> tuple[str, str, bool] | None:
    """(name, type, written with `=`) for one captured `@bind` node; a class-level field
    is named `self.x`."""
    kind = node.type
    if kind == "assignment":  # Python: r = Request(...) / r: Request = ... / self.r = ...
        name = _target(source, node.child_by_field_name("left"))
        right = node.child_by_field_name("right")
        typed = type_text(source, node.child_by_field_name("type"))
        if typed is None and right is not None and right.type == "call":
            typed = type_text(source, right.child_by_field_name("function"))
            if typed is not None and not typed.rpartition(".")[2][:1].isupper():
                typed += RESULT  # a function's result: the type it returns, if it says
        elif (typed is None and right is not None and right.type == "identifier" and name
              and name.startswith("self.")):
            typed = PARAMETER + node_text(source, right)  # `self.ctx = ctx`
        return (name, typed, right is not None) if name and typed else None
    if kind == "as_pattern":  # Python: with Session() as s -> what its __enter__ returns
        named = node.named_children
        made = named[0] if named else None
        alias = named[-1].named_children if len(named) > 1 else []
        if made is None or made.type != "call" or len(alias) != 1:
            return None
        name = _target(source, alias[0])
        called = type_text(source, made.child_by_field_name("function"))
        if not name or called is None or "." in name:
            return None
        return name, f"{called}{RESULT}.__enter__{RESULT}", True
    if kind in ("typed_parameter", "typed_default_parameter"):  # Python parameters
        found = node.child_by_field_name("name")
        if found is None:
            found = next((c for c in node.children if c.type == "identifier"), None)
        name = _target(source, found)
        typed = type_text(source, node.child_by_field_name("type"))
        return (name, typed, kind == "typed_default_parameter") if name and typed else None
    if kind in ("variable_declarator", "assignment_expression"):  # JS/TS
        declared = kind == "variable_declarator"
        name = _target(source, node.child_by_field_name("name" if declared else "left"))
        value = node.child_by_field_name("value" if declared else "right")
        typed = type_text(source, node.child_by_field_name("type"))
        if value is not None and value.type == "new_expression":
            typed = type_text(source, value.child_by_field_name("constructor")) or typed
        elif typed is None and value is not None and value.type == "call_expression":
            called = type_text(source, value.child_by_field_name("function"))
            typed = called + RESULT if called is not None else None
        elif (typed is None and value is not None and value.type == "identifier" and name
              and name.startswith("self.")):
            typed = PARAMETER + node_text(source, value)  # `this.box = box`
        return (name, typed, value is not None) if name and typed else None
    if kind in ("required_parameter", "optional_parameter"):  # TypeScript parameters
        name = _target(source, node.child_by_field_name("pattern"))
        typed = type_text(source, node.child_by_field_name("type"))
        has_value = node.child_by_field_name("value") is not None
        return (name, typed, has_value) if name and typed else None
    if kind == "public_field_definition":  # TypeScript: private box: Box
        field = node.child_by_field_name("name")
        typed = type_text(source, node.child_by_field_name("type"))
        if field is None or typed is None:
            return None
        return f"self.{node_text(source, field)}", typed, node.child_by_field_name(
            "value") is not None
    return None


# What may follow a name that a statement binds with a value: `r = `, `r: T = ` (an
# annotation read up to a comma or a bracket, so that the next parameter's default is not
# taken for this one's), `r := `. And what may precede it: `for r in`, `for (const r of`,
# `for k, r in`, `as r`.
_ASSIGNED = re.compile(rb"\s*(?::[^=\n,(){};]*)?(?<![=!<>])=(?![=>])|\s*:=")
_LOOP_OR_AS = re.compile(rb"(?:\bfor\b(?:(?!\b(?:in|of)\b)[^\n;:])*|\bas\s+)$")
_WORD_BYTE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def binds_in(text: bytes, name: str) -> int:
    """How many times `text` binds `name` (`r`, or `self.r`, which `this.r` also is) with
    a value. An over-count is safe (the name is left untyped): a keyword argument `f(r=1)`
    counts too. Reads only around the name's occurrences (found in C), never the whole
    text with a regex."""
    owner, _dot, word = name.rpartition(".")
    needle = word.encode()
    count = 0
    at = text.find(needle)
    while at >= 0:
        end = at + len(needle)
        start = at
        if owner:  # `self.r` / `this.r`
            start = at - 5
            if start < 0 or text[start:at] not in (b"self.", b"this."):
                at = text.find(needle, end)
                continue
        if ((start > 0 and (text[start - 1] in _WORD_BYTE or text[start - 1] == 46))  # "."
                or (end < len(text) and text[end] in _WORD_BYTE)):
            at = text.find(needle, end)
            continue
        if _ASSIGNED.match(text, end):
            count += 1
        else:
            line_start = text.rfind(b"\n", 0, start) + 1
            if _LOOP_OR_AS.search(text, line_start, start):
                count += 1
        at = text.find(needle, end)
    return count


def _scope(definitions: Sequence[Definition], i: int, name: str) -> int:
    """Where `name` lives: an attribute in the class enclosing definition `i`, a variable
    in `i` itself (-1: nowhere)."""
    if not name.startswith("self."):
        return i
    while i >= 0 and definitions[i].symbol.kind not in _CLASS_KINDS:
        i = definitions[i].parent
    return i


def typed_receivers(sites: list[CallSite], source: bytes, definitions: Sequence[Definition],
                    binds: Sequence[Node], language: str) -> list[CallSite]:
    """`sites` with each call on a typed variable or attribute qualified by its type
    (`r.prepare` keeps its callee; its qualifier `r` becomes `Request`). Only names some
    call is made on are looked at."""
    if language not in TYPED_LANGUAGES or not binds:
        return sites
    index = {d.symbol.id: i for i, d in enumerate(definitions)}
    wanted: dict[tuple[int, str], list[int]] = {}  # (scope, name) -> its calls
    for k, site in enumerate(sites):
        if site.receiver != "qualified" or site.kind != "call":
            continue
        head, dot, rest = site.qualifier.partition(".")
        if dot and (head not in _SELF or "." in rest):
            continue
        name = f"self.{rest}" if dot else head
        scope = _scope(definitions, index.get(site.caller_id, -1), name)
        if scope >= 0:
            wanted.setdefault((scope, name), []).append(k)
    if not wanted:
        return sites
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    parents = [d.parent for d in definitions]
    last_words = {name.rpartition(".")[2].encode() for _scope_i, name in wanted}
    bound: dict[tuple[int, str], list[tuple[str, bool]]] = {}
    copied: set[tuple[int, str]] = set()  # (definition, parameter) copied to an attribute
    spans: set[tuple[int, int]] = set()  # a node two patterns match is one binding
    for node in binds:
        start, end = node.start_byte, node.end_byte
        if (start, end) in spans:
            continue
        spans.add((start, end))
        # a cheap sieve: the first child is the bound name (`r`, `self.r`) in every `@bind`
        # pattern but a TypeScript field's, which may start with `private`
        first = node.child(node.child_count - 1) if node.type == "as_pattern" else node.child(0)
        bound_word = b"" if first is None else source[first.start_byte:first.end_byte]
        promoted = (node.type in _TS_PARAMETERS and first is not None
                    and first.type in _MODIFIERS)  # constructor(private box: Box)
        if (bound_word.rpartition(b".")[2] not in last_words
                and node.type != "public_field_definition" and not promoted):
            continue
        i = bisect_right(starts, start) - 1
        while i >= 0 and ends[i] < end:
            i = parents[i]
        binding = binding_of(source, node) if i >= 0 else None
        if binding is None:
            continue
        name = binding[0]
        if definitions[i].symbol.kind in _CLASS_KINDS and not name.startswith("self."):
            name = f"self.{name}"  # a class-level field: `session: Session`
        elif promoted:
            name = f"self.{name}"  # a TypeScript parameter property is a field too
        key = (_scope(definitions, i, name), name)
        if key in wanted:
            typed, assigned = binding[1:]
            if typed.startswith(PARAMETER):  # `self.ctx = ctx`: the parameter's type, if any
                typed = f"{PARAMETER}{i}:{typed[1:]}"
                copied.add((i, typed.partition(":")[2]))
            bound.setdefault(key, []).append((typed, assigned))
    if copied:
        _parameter_types(source, definitions, binds, copied, bound)
    out = list(sites)
    for (scope, name), typings in bound.items():
        types = {typed for typed, _assigned in typings}
        if len(types) != 1:
            continue
        symbol = definitions[scope].symbol
        text = source[symbol.start_byte:symbol.end_byte]
        if binds_in(text, name) > sum(assigned for _typed, assigned in typings):
            continue  # also bound to something else: its type is not one thing
        (typed,) = types
        if not typed:
            continue  # set from a parameter of no (plain) type
        for k in wanted[(scope, name)]:
            out[k] = out[k]._replace(qualifier=typed)
    return out


def _parameter_types(source: bytes, definitions: Sequence[Definition], binds: Sequence[Node],
                     copied: set[tuple[int, str]],
                     bound: dict[tuple[int, str], list[tuple[str, bool]]]) -> None:
    """Each `=i:p` binding in `bound` (attribute = parameter p of definition i) replaced by
    p's annotated type, or dropped (an untyped parameter: the attribute is untyped)."""
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    found: dict[str, str] = {}
    for node in binds:
        if node.type not in _PARAMETERS:
            continue
        i = bisect_right(starts, node.start_byte) - 1
        while i >= 0 and ends[i] < node.end_byte:
            i = definitions[i].parent
        binding = binding_of(source, node) if i >= 0 else None
        if binding is not None and (i, binding[0]) in copied:
            found[f"{PARAMETER}{i}:{binding[0]}"] = binding[1]
    for typings in bound.values():
        typings[:] = [(found.get(typed, ""), assigned) if typed.startswith(PARAMETER)
                      else (typed, assigned) for typed, assigned in typings]


def local_shadows(sites: list[CallSite], source: bytes, definitions: Sequence[Definition],
                  language: str, file_names: Container[str]) -> list[CallSite]:
    """`sites` with each call on a receiver that names a module-level name of the file (an
    import, a typed variable) but is the caller's own parameter or variable (`def
    test(app): app.run()` in a file that imports an `app` somewhere) marked as an
    expression: the module-level name is not what it calls, so resolution must not go
    through it (it falls back to the name, as for any untyped receiver)."""
    if language not in TYPED_LANGUAGES:
        return sites
    index: dict[str, int] | None = None
    nested: set[tuple[int, str]] = set()  # (parent, name) of each definition
    out = sites
    seen: dict[tuple[str, str], bool] = {}  # (caller, name): most calls repeat
    for k, site in enumerate(sites):
        if site.receiver != "qualified" or site.kind != "call":
            continue
        head = site.qualifier.partition(".")[0]
        if head not in file_names or not site.callee.startswith(head + "."):
            continue  # not a module-level name, or typed already
        if index is None:
            index = {d.symbol.id: i for i, d in enumerate(definitions)}
            nested = {(d.parent, d.symbol.name) for d in definitions}
        key = (site.caller_id, head)
        local = seen.get(key)
        if local is None:
            local = seen[key] = _bound_locally(source, definitions,
                                               index.get(site.caller_id, -1), head, nested)
        if local:
            if out is sites:
                out = list(sites)
            out[k] = site._replace(receiver="expression", qualifier="")
    return out


_PARAMETER_FIELDS = ("name", "pattern", "left")


def _bound_locally(source: bytes, definitions: Sequence[Definition], i: int, name: str,
                   nested: Container[tuple[int, str]]) -> bool:
    """`name` is a parameter of, assigned in, or defined in definition `i` or a function
    around it."""
    while i >= 0:
        d = definitions[i]
        if d.symbol.kind in _CLASS_KINDS:
            return False  # the class body: module-level names are visible from here on
        if (i, name) in nested:
            return True  # a nested `def name():`
        if d.fn is not None:
            params = d.fn.child_by_field_name("parameters")
            for param in params.named_children if params is not None else ():
                found = next((f for f in (param.child_by_field_name(n)
                                          for n in _PARAMETER_FIELDS) if f is not None),
                             param if param.type == "identifier" else next(
                                 (c for c in param.named_children
                                  if c.type == "identifier"), None))
                if found is not None and node_text(source, found) == name:
                    return True
            if binds_in(source[d.symbol.start_byte:d.symbol.end_byte], name):
                return True
        i = d.parent
    return False


def renamed_self(sites: list[CallSite], source: bytes, definitions: Sequence[Definition],
                 language: str) -> list[CallSite]:
    """Python: a method's first parameter is its `self` whatever its name (`def
    invoke(__self, ...)`: `__self.go()` is a call through self), unless the method is a
    staticmethod."""
    if language != "python":
        return sites
    index: dict[str, int] | None = None
    first: dict[int, str] = {}  # definition -> its self's name ("" when none)
    out = sites
    for k, site in enumerate(sites):
        if (site.receiver != "qualified" or site.kind != "call" or "." in site.qualifier
                or not site.callee.startswith(site.qualifier + ".")):
            continue
        if index is None:
            index = {d.symbol.id: i for i, d in enumerate(definitions)}
        i = index.get(site.caller_id, -1)
        name = first.get(i)
        if name is None:
            name = first[i] = _self_name(source, definitions, i)
        if name and name == site.qualifier:
            if out is sites:
                out = list(sites)
            out[k] = site._replace(receiver="self", qualifier="self")
    return out


def _self_name(source: bytes, definitions: Sequence[Definition], i: int) -> str:
    """The first parameter of method `i` when it is not named self/cls (else "")."""
    if i < 0 or definitions[i].parent < 0:
        return ""
    d = definitions[i]
    if definitions[d.parent].symbol.kind not in _CLASS_KINDS:
        return ""
    signature = d.symbol.signature
    opened = signature.find("(")
    if opened < 0:
        return ""
    name = re.split(r"[,):=\s]", signature[opened + 1:].lstrip(), maxsplit=1)[0]
    if not name.isidentifier() or name in ("self", "cls"):
        return ""
    if b"staticmethod" in source[d.outer.start_byte:d.node.start_byte]:
        return ""  # a decorator: the first parameter is an ordinary one
    return name
