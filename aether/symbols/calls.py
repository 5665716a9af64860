"""Call sites: every `@call`/`@new` capture of a file's query, handed to its innermost
enclosing symbol, with the callee's text and the shape of its receiver.

The shape is read from the callee's text, not from grammar-specific node types, so any
language whose facts query captures `@call` gets call sites (Python `self.f`, JS `this.f`,
Rust `Foo::new`, Go `pkg.F`, PHP `$this->f`, Ruby `self.f`, C++ `ns::f`). Resolving a call
to a symbol is the engine's business (aether.engine.graph_resolve); this layer only records
what the code says.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Container
from operator import itemgetter

from tree_sitter import Node

from aether.redaction import redact_secrets
from aether.symbols.definitions import Definition, node_text
from aether.symbols.imports import Imports
from aether.symbols.local_types import local_shadows, renamed_self, typed_receivers
from aether.symbols.model import CallSite

# Bump when what a file's symbols or call sites are changes (new captures, new receiver
# typing, Python overloads folded into one symbol): a store made by another version parses
# every file again on its next full pass.
VERSION = 5  # 5: TS `as` objects, call signatures, Kotlin one-line bodies, Go/Rust imports
MAX_CALLEE = 200  # longer callee texts are expressions nobody resolves by name

# receiver shapes
BARE = "bare"  # f()
SELF = "self"  # self.f() / this.f() / cls.f() / $this->f()
QUALIFIED = "qualified"  # mod.f() / Type::f() / obj.f() (a plain dotted path)
EXPRESSION = "expression"  # f().g() / xs[0].g() / super().g()

_NAME_TYPES = frozenset({"identifier", "name", "simple_identifier", "field_identifier",
                         "property_identifier", "constant"})
_RECEIVER_FIELDS = ("object", "receiver", "scope")
# languages whose facts queries capture the whole callee expression, receiver included
_WHOLE_CALLEE = frozenset({"python", "javascript", "typescript", "tsx", "rust", "go"})
_SELF_WORDS = frozenset({"self", "this", "cls", "$this", "@"})
_SEPARATORS = re.compile(r"::|->|\?\.|\.")
_TURBOFISH = re.compile(r"::<[^<>]*>")
# (line, column) of a CallSite, read in C: a cold index sorts 370,000 of them
BY_POSITION = itemgetter(5, 6)
_GENERIC = re.compile(r"(?<!:)<[^<>]*>")
_TRAILING_NAME = re.compile(r"([A-Za-z_$][\w$]*[!?]?)$")
_STRING = re.compile(r"""(["'`])(?:\\.|(?!\1).)*\1""")
_PART = re.compile(r"[A-Za-z_$@][\w$]*")


def shape(text: str) -> tuple[str, str, str, str] | None:
    """Callee text -> (callee, name, receiver, qualifier), or None when no name is called
    (`(lambda: 1)()`, `fns[0]()`)."""
    if " " in text or "\n" in text or "\t" in text:
        text = "".join(text.split())
    while "::<" in text:  # innermost generics first: `collect::<Vec<_>>`
        stripped = _TURBOFISH.sub("", _GENERIC.sub("", text))
        if stripped == text:
            break
        text = stripped
    if text.isidentifier():
        return text, text, BARE, ""
    parts = _SEPARATORS.split(text)
    if len(parts) > 1 and all(_PART.fullmatch(p) for p in parts):
        name = parts[-1]
        head = parts[0]
        callee = ".".join(parts)
        if head in _SELF_WORDS and len(parts) == 2:
            return callee, name, SELF, head
        return callee, name, QUALIFIED, ".".join(parts[:-1])
    if _PART.fullmatch(text):  # `$f`, `@f`
        return text, text, BARE, ""
    match = _TRAILING_NAME.search(text)
    if match is None or len(text) > MAX_CALLEE:
        return None
    name = match.group(1)
    if match.start() == 0 or text[match.start() - 1] not in ".:>":
        return None  # `f[0]` / `a+b`: no member is called by name
    return _without_literals(text), name, EXPRESSION, ""


def _without_literals(text: str) -> str:
    """`post(url, data="k3y").json` -> `post().json`: arguments, subscripts and strings are
    dropped, so no literal (and no hard-coded credential) is ever stored with an edge."""
    if "'" in text or '"' in text or "`" in text:
        text = _STRING.sub('""', text)
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            if depth == 0:
                out.append(ch)
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
            if depth == 0:
                out.append(ch)
        elif depth == 0:
            out.append(ch)
    return redact_secrets("".join(out))[0]


def collect_calls(source: bytes, definitions: list[Definition],
                  captures: dict[str, list[Node]], language: str = "",
                  file_names: Container[str] = ()) -> list[CallSite]:
    """Call sites inside symbols, in document order (calls at module level have no caller
    and are left out)."""
    if not definitions:
        return []
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    parents = [d.parent for d in definitions]
    ids = [d.symbol.id for d in definitions]
    nodes = captures.get("call", []) + captures.get("new", [])
    shapes: dict[str, tuple[str, str, str, str] | None] = {}  # most callees repeat
    receivers_apart = language not in _WHOLE_CALLEE
    named_self = _go_receivers(source, definitions) if language == "go" else None
    out: list[CallSite] = []
    for node in nodes:
        start, end = node.start_byte, node.end_byte
        i = bisect_right(starts, start) - 1
        while i >= 0 and ends[i] < end:
            i = parents[i]
        if i < 0:
            continue
        text = node_text(source, node)
        if receivers_apart and node.type in _NAME_TYPES:
            text = _with_receiver(source, node, text)
        found = shapes.get(text, ...)
        if found is ...:
            found = shapes[text] = shape(text) if len(text) <= MAX_CALLEE else None
        if found is None:
            continue
        callee, name, receiver, qualifier = found
        if named_self and receiver == QUALIFIED and named_self.get(i) == qualifier:
            receiver = SELF  # `c.Run()` in `func (c *Command) Execute()`
        point = node.end_point
        column = max(1, point.column - len(name) + 1)
        out.append(CallSite(ids[i], callee, name, receiver, qualifier, point.row + 1, column))
    out.sort(key=BY_POSITION)
    binds = captures.get("bind")
    if binds:
        out = typed_receivers(out, source, definitions, binds, language)
    out = renamed_self(out, source, definitions, language)
    # `file_names`: module-level names (imports, typed variables) a local name may shadow
    return local_shadows(out, source, definitions, language, file_names) if file_names else out


def _go_receivers(source: bytes, definitions: list[Definition]) -> dict[int, str]:
    """Index of each Go method -> its receiver's name (`c` in `func (c *Command) Run()`): Go
    names what other languages call `self`."""
    out: dict[int, str] = {}
    for i, d in enumerate(definitions):
        if d.node.type != "method_declaration":
            continue
        params = d.node.child_by_field_name("receiver")
        param = params.named_children[0] if params is not None and params.named_children \
            else None
        name = param.child_by_field_name("name") if param is not None else None
        if name is not None:
            out[i] = node_text(source, name)
    return out


# standard types every file names: references to them would be rows that never resolve
_COMMON_TYPES = frozenset({
    "Self", "Vec", "String", "Option", "Result", "Box", "Rc", "Arc", "HashMap", "HashSet",
    "BTreeMap", "BTreeSet", "Some", "None", "Ok", "Err", "Promise", "Array", "Map", "Set",
    "Record", "Partial", "Readonly", "Pick", "Omit", "Error", "Date", "Object", "Function",
    "Exception", "ValueError", "TypeError", "KeyError", "RuntimeError", "Any", "Optional",
    "Union", "List", "Dict", "Tuple", "Callable", "Iterator", "Iterable", "Sequence",
})


def collect_references(source: bytes, definitions: list[Definition],
                       captures: dict[str, list[Node]], bindings: Container[str]
                       ) -> list[CallSite]:
    """Reference sites inside symbols (`kind` "reference"): names used as values or types,
    not called. Only names that can mean an indexed symbol are kept (capitalised type
    names, names bound by an import, names the file defines), so a local variable passed
    along is never an edge."""
    nodes = captures.get("ref")
    if not nodes or not definitions:
        return []
    starts = [d.symbol.start_byte for d in definitions]
    ends = [d.symbol.end_byte for d in definitions]
    parents = [d.parent for d in definitions]
    ids = [d.symbol.id for d in definitions]
    defined = {d.symbol.name for d in definitions}
    out: list[CallSite] = []
    seen: set[tuple[int, int]] = set()
    shapes: dict[str, tuple[str, str, str, str] | None] = {}  # most names repeat
    for node in nodes:
        start, end = node.start_byte, node.end_byte
        if (start, end) in seen:
            continue
        seen.add((start, end))
        # what the name is decides first: most candidates are local names, dropped before
        # their owner is looked up
        text = node_text(source, node)
        found = shapes.get(text, ...)
        if found is ...:
            found = shapes[text] = shape(text) if len(text) <= MAX_CALLEE else None
        if found is None:
            continue
        callee, name, receiver, qualifier = found
        if receiver == EXPRESSION or name in _COMMON_TYPES:
            continue
        head = qualifier.split(".", 1)[0] if qualifier else name
        if receiver == SELF:
            if name not in defined:
                continue  # `self.x` passed along: data, unless the file defines a method x
        elif not (head in bindings or name in defined
                  or (name[:1].isupper() and len(name) > 1)):  # `T`: a generic parameter
            continue
        i = bisect_right(starts, start) - 1
        while i >= 0 and ends[i] < end:
            i = parents[i]
        owners = [i] if i >= 0 else _implementers(node, starts, ends)
        if not owners:
            continue
        # last: a node's parent is found by walking down from the root
        parent = node.parent
        if parent is not None and parent.child_by_field_name("name") == node:
            continue  # the definition's own name (`struct Foo`, `type Foo struct`)
        point = node.end_point
        column = max(1, point.column - len(name) + 1)
        out.extend(CallSite(ids[k], callee, name, receiver, qualifier, point.row + 1, column,
                            "reference") for k in owners)
    return out


def _implementers(node: Node, starts: list[int], ends: list[int]) -> list[int]:
    """A Rust `impl Trait for Foo` header sits outside every symbol: the trait is
    referenced by each method of the block (so a changed trait impacts its impls). Any
    other name outside a symbol: none."""
    if node.type not in ("type_identifier", "scoped_type_identifier"):
        return []
    block = node.parent
    if block is None or block.type != "impl_item" or block.child_by_field_name("trait") != node:
        return []
    lo, hi = block.start_byte, block.end_byte
    inside = [k for k in range(bisect_right(starts, lo - 1), len(starts)) if starts[k] < hi]
    return [k for k in inside if ends[k] <= hi
            and not any(starts[j] < starts[k] and ends[k] <= ends[j] for j in inside if j != k)]


def _with_receiver(source: bytes, node: Node, text: str) -> str:
    """Some grammars' facts queries capture only the called name (Java `method_invocation`,
    Ruby `call`, PHP `member_call_expression`): put the receiver back in front of it, as
    written (`this.g`, `B::k`, `$this->g`), from the call node's object field."""
    parent = node.parent
    if parent is None:
        return text
    for field in _RECEIVER_FIELDS:
        receiver = parent.child_by_field_name(field)
        if receiver is not None and receiver.end_byte <= node.start_byte:
            return source[receiver.start_byte:node.end_byte].decode("utf-8", errors="replace")
    return text


def file_bindings(language: str, imports: Imports) -> dict[str, str]:
    """Local name -> what it refers to (`np` -> `numpy`, `join` -> `os.path.join`,
    `helper` -> `.util.helper`, Go `util` -> `example.com/m/util`); relative targets stay
    relative (the engine anchors them)."""
    if language == "go":
        return {local: name.module for local, name in imports.names.items()}
    return {local: name.target for local, name in imports.names.items()}


def star_imports(language: str, source: bytes, captures: dict[str, list[Node]]) -> list[str]:
    """Modules imported whole into the file's namespace: `from m import *`, `use m::*`,
    `export * from "m"`."""
    out: list[str] = []
    for node in captures.get("import", []):
        if language == "python" and node.type == "import_from_statement":
            if any(child.type == "wildcard_import" for child in node.children):
                module = node.child_by_field_name("module_name")
                if module is not None:
                    out.append(node_text(source, module))
        elif language == "rust" and node.type == "use_declaration":
            text = "".join(node_text(source, node).split()).removeprefix("pub")
            if text.startswith("use") and text.endswith("::*;") and "{" not in text:
                out.append(text[len("use"):-len("::*;")])
    for string in captures.get("import.source", []):
        statement = string.parent
        if statement is not None and any(c.type == "*" for c in statement.children):
            out.append(node_text(source, string).strip("\"'`"))
    return sorted(dict.fromkeys(out))
