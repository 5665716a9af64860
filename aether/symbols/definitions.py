"""Definitions query captures -> symbols with qualified names, kinds, signatures and ranges.

The query only says *where* definitions are. Names come from each node's `name` field and
nesting from byte ranges (sorted starts + a stack): py-tree-sitter returns captures grouped by
name and not in document order, so nothing here pairs captures by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from aether.hashing import content_hash
from aether.redaction import redact_secrets
from aether.symbols.ecma_names import (
    TS_CASTS,
    Aliases,
    defines_something,
    ecma_item,
    object_scope_path,
)
from aether.symbols.ids import symbol_id
from aether.symbols.model import Symbol
from aether.symbols.native_names import (
    NATIVE,
    SCOPE_KINDS,
    native_item,
    scope_name,
    separator,
    swift_extension,
    typedef_names,
)

# Enclosing kinds that make a directly nested function a method.
_METHOD_OWNERS = frozenset({"class", "struct", "enum", "trait", "interface", "impl", "module",
                            "object", "singleton"})  # "object": a JS object literal
_SCOPE_KINDS = {"impl_item": "impl", "mod_item": "namespace", "internal_module": "namespace",
                "module": "namespace", "variable_declarator": "object", "pair": "object",
                "assignment_expression": "object"}
# Values that make an assignment, property or variable a function definition.
_FUNCTION_VALUES = frozenset({"function_expression", "arrow_function", "generator_function",
                              "function"})
# TypeScript overload signatures: collapsed into their implementation (or the first one).
_SIGNATURES = frozenset({"function_signature", "method_signature"})
# Where a body starts when the grammar gives it no `body` field (Kotlin, some C# forms).
_BODY_TYPES = frozenset({"class_body", "enum_class_body", "function_body", "block",
                         "declaration_list", "compound_statement", "field_declaration_list",
                         "arrow_expression_clause", "protocol_body", "enum_body",
                         "interface_body", "body_statement", "constructor_body",
                         "computed_property"})
# Annotations and attributes before a declaration are not its header.
_LEADING_ANNOTATIONS = re.compile(
    r"^(?:(?:@(?!interface\b)[\w.]+(?:\((?:[^()]|\([^()]*\))*\))?|#?\[[^\]]*\])\s*)+")
# a comment after the colon of a Python header, before the body on the next line
_PY_TRAILING_COMMENT = re.compile(r":[ \t]*#[^\n]*\s*$")
_EXPORTING = frozenset({"javascript", "typescript", "tsx"})
_GO_TYPE_KINDS = {"struct_type": "struct", "interface_type": "interface"}


@dataclass(slots=True)
class Definition:
    """A symbol plus the syntax nodes the static analyser reads."""

    symbol: Symbol
    node: Node  # the definition node itself (function_definition, variable_declarator, ...)
    outer: Node  # the node whose range is the symbol's (decorated_definition, lexical_declaration)
    anchor: Node  # where preceding doc comments attach (e.g. the export_statement)
    fn: Node | None  # the function-like node with parameters/return type/body; None for types
    parent: int  # index of the enclosing Definition, -1 at top level


def node_text(source: bytes, node: Node) -> str:
    # Sliced from our own bytes: a tree parsed through a read callback has no `Node.text`.
    return source[node.start_byte:node.end_byte].decode("utf-8", errors="replace")


@dataclass(slots=True)
class _Item:
    node: Node
    ntype: str  # node.type, cached: Node properties are not free
    outer: Node
    start: int  # outer range, cached too
    end: int
    kind: str  # a symbol kind, or "impl"/"namespace" for scopes
    name: str
    scope: bool
    path: str = ""  # the qualified name relative to the enclosing one; "" means `name`
    sep: str | None = None  # separator before `path` when it is not the language's usual one
    lead: Node | None = None  # TypeScript: the first overload signature, where the symbol starts
    transparent: bool = False  # members are not qualified by it (`module.exports = {...}`)


def _outer(node: Node) -> Node:
    """The node whose range is the symbol's: decorators and a lone `const`/`type` included."""
    parent = node.parent
    if parent is None:
        return node
    ptype = parent.type
    if node.type == "assignment_expression":  # `a = b.c = function () {}`, `var p = m.e = ...`
        while parent is not None and parent.type in (
                "assignment_expression", "variable_declarator", "expression_statement",
                "variable_declaration", "lexical_declaration"):
            if parent.type in ("variable_declaration", "lexical_declaration") \
                    and parent.named_child_count != 1:
                break
            node, parent = parent, parent.parent
        return node
    if ptype == "template_declaration":  # C++: `template <typename T>` is part of the symbol
        return parent
    if ptype == "decorated_definition" or (
        ptype in ("lexical_declaration", "variable_declaration", "type_declaration")
        and parent.named_child_count == 1
    ):
        return parent
    return node


def _anchor(outer: Node) -> Node:
    """Where leading doc comments attach: above `export` when the definition is exported."""
    parent = outer.parent
    return parent if parent is not None and parent.type == "export_statement" else outer


def _type_name(source: bytes, node: Node | None) -> str:
    """`Foo<T>`, `&mut foo::Bar<'_>`, `*Server[T]` -> the bare type name."""
    while node is not None and node.type in ("generic_type", "reference_type", "pointer_type"):
        inner = node.child_by_field_name("type")
        if inner is None:
            inner = node.named_children[-1] if node.named_child_count else None
        node = inner
    if node is None:
        return "?"
    if node.type in ("scoped_type_identifier", "qualified_type"):
        name = node.child_by_field_name("name")
        if name is not None:
            node = name
    text = node_text(source, node)
    return text.split("<", 1)[0].split("[", 1)[0].strip() or "?"


def _name(source: bytes, node: Node, ntype: str) -> str | None:
    if ntype == "impl_item":
        return _type_name(source, node.child_by_field_name("type"))
    name = node.child_by_field_name("property" if ntype == "field_definition" else "name")
    if name is None:
        return None
    text = node_text(source, name)
    if ntype == "module":  # declare module "foo"
        text = text.strip("\"'`")
    return text or None


def _go_receiver(source: bytes, node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None or receiver.named_child_count == 0:
        return "?"
    return _type_name(source, receiver.named_children[0].child_by_field_name("type"))


def _header_end(node: Node, ntype: str, language: str) -> int:
    """Byte offset where the body starts: the signature is everything before it."""
    if ntype in ("function_definition", "class_definition"):  # Python: up to the colon
        body = node.child_by_field_name("body")
        return body.start_byte if body is not None else node.end_byte
    if ntype in ("variable_declarator", "field_definition", "public_field_definition", "pair",
                 "assignment_expression"):
        value = _value_function(node)
        if value is None:
            return node.end_byte
        if value.type == "object":  # `const defaults = {`: the name is the header
            return value.start_byte
        body = value.child_by_field_name("body")
        return body.start_byte if body is not None else value.end_byte
    if ntype == "type_alias_declaration":
        field = "value"
    elif ntype == "type_item" or (ntype == "type_alias" and language == "go"):
        field = "type"
    elif ntype == "type_spec":
        spec = node.child_by_field_name("type")
        if spec is not None and spec.type in _GO_TYPE_KINDS:
            for child in spec.children:
                if child.type in ("field_declaration_list", "{"):
                    return child.start_byte
        return node.end_byte
    elif ntype == "type_definition":  # C: typedef struct {...} name_t;
        return node.end_byte
    elif ntype in ("method", "singleton_method", "class", "module"):  # Ruby: no braces
        end = 0
        for name in ("name", "parameters", "superclass", "object"):
            part = node.child_by_field_name(name)
            if part is not None and part.end_byte > end:
                end = part.end_byte
        return end or node.end_byte
    else:
        field = "body"
    body = node.child_by_field_name(field)
    if body is None:
        for child in node.children:
            if child.type in _BODY_TYPES:
                return child.start_byte
        return node.end_byte
    return body.start_byte


def _value_function(node: Node) -> Node | None:
    """The function (or class) a declarator, field, pair or assignment holds, looking through a
    wrapping call (`forwardRef((props, ref) => ...)`) and an assignment chain."""
    value = node.child_by_field_name("right" if node.type == "assignment_expression" else "value")
    if value is not None and value.type in TS_CASTS:  # `{...} as const`: the object
        value = value.named_child(0)
    if value is not None and value.type == "call_expression":
        arguments = value.child_by_field_name("arguments")
        value = arguments.named_child(0) if arguments is not None and \
            arguments.named_child_count else None
    return value


def _signature_start(node: Node, ntype: str, outer: Node, language: str) -> int:
    if ntype == "assignment_expression":
        return node.start_byte
    if ntype in ("variable_declarator", "type_spec", "type_alias"):
        return outer.start_byte  # keep `const` / `type`
    if language in NATIVE:
        return outer.start_byte  # C++ templates
    if language not in _EXPORTING:
        return node.start_byte
    first = node.child(0)
    if first is not None and first.type == "decorator":  # TS decorators are not the header
        for child in node.children:
            if child.type != "decorator":
                return child.start_byte
    return node.start_byte


def _signature(source: bytes, item: _Item, language: str) -> str:
    node, ntype = item.node, item.ntype
    start = _signature_start(node, ntype, item.outer, language)
    text = source[start:_header_end(node, ntype, language)].decode("utf-8", errors="replace")
    if "#" in text and ntype in ("function_definition", "class_definition"):
        text = _PY_TRAILING_COMMENT.sub(":", text)  # `def f():  # why` -> `def f():`
    text = " ".join(text.split()).rstrip(" :={;")
    if ntype == "type_definition" and "{" in text:  # keep `typedef struct` and the name
        body = text.find("{")
        text = f"{text[:body].rstrip()} {{...}} {item.name}"
    if language in NATIVE and text[:1] in "@[#":
        text = _LEADING_ANNOTATIONS.sub("", text)
    if ntype in ("type_spec", "type_alias") and item.outer is node and language == "go":
        text = "type " + text  # a spec inside `type ( ... )`
    # a default value can be a hard-coded credential: signatures are stored and shown
    return redact_secrets(text)[0]


def _function_node(node: Node, ntype: str) -> Node | None:
    if ntype in ("variable_declarator", "field_definition", "public_field_definition", "pair",
                 "assignment_expression"):
        value = _value_function(node)
        return value if value is not None and value.type in _FUNCTION_VALUES else None
    if ntype in ("function_definition", "function_declaration", "generator_function_declaration",
                 "method_definition", "function_item", "method_declaration",
                 "function_expression", "arrow_function", "function_signature",
                 "method_signature", "abstract_method_signature", "constructor_declaration",
                 "compact_constructor_declaration", "destructor_declaration",
                 "operator_declaration", "local_function_statement", "method",
                 "singleton_method", "protocol_function_declaration", "init_declaration",
                 "deinit_declaration", "subscript_declaration"):
        return node
    return None


def _items(language: str, file_path: str, source: bytes,
           captures: dict[str, list[Node]]) -> list[_Item]:
    items: list[_Item] = []
    ecma = language in _EXPORTING
    native = language in NATIVE
    aliases = Aliases.of(source, file_path, captures.get("alias", [])) if ecma else None
    if native and "package" in captures:
        _package_scopes(language, source, captures["package"], items)
    for capture, nodes in captures.items():
        if capture == "scope" and native:
            for node in nodes:
                path = scope_name(language, source, node)
                if path is not None:
                    items.append(_Item(node, node.type, node, node.start_byte, node.end_byte,
                                       SCOPE_KINDS.get(node.type, "namespace"),
                                       path.rsplit(".", 1)[-1], True, path))
            continue
        if capture == "scope":
            for node in nodes:
                ntype = node.type
                if aliases is not None and ntype == "assignment_expression":
                    path = object_scope_path(source, node, aliases)
                    if path is None:
                        continue
                    name = path.rsplit(".", 1)[-1]
                    if not _prototype_target(source, node):
                        _exported_object(node, path or aliases.module, not path, items)
                        continue
                else:
                    name = path = _name(source, node, ntype) or ""
                    if not name:
                        continue
                items.append(_Item(node, ntype, node, node.start_byte, node.end_byte,
                                   _SCOPE_KINDS[ntype], name, True, path))
            continue
        if not capture.startswith("definition."):
            continue
        kind = capture[len("definition."):]
        for node in nodes:
            ntype = node.type
            sep = None
            if aliases is not None:
                found = ecma_item(source, node, ntype, kind, aliases, _name)
                if found is None:
                    continue
                name, path, node_kind = found
            elif native:
                if language == "swift" and ntype == "class_declaration":
                    extended = swift_extension(source, node)
                    if extended is not None:  # members of `extension T` are T's
                        items.append(_Item(node, ntype, node, node.start_byte, node.end_byte,
                                           "class", extended, True, extended))
                        continue
                if ntype == "type_definition":  # typedef struct {...} A, *PA;
                    for alias in typedef_names(source, node)[1:]:
                        items.append(_Item(node, ntype, node, node.start_byte, node.end_byte,
                                           kind, alias, False, alias))
                native_found = native_item(language, source, node, ntype, kind)
                if native_found is None:
                    continue
                name, path, node_kind, sep = native_found
            else:
                name = path = _name(source, node, ntype) or ""
                if not name:
                    continue  # broken trees
                node_kind = kind
            outer = _outer(node)
            if kind == "type":  # Go type_spec
                spec = node.child_by_field_name("type")
                node_kind = _GO_TYPE_KINDS.get(spec.type if spec is not None else "", "type_alias")
            items.append(_Item(node, ntype, outer, outer.start_byte, outer.end_byte, node_kind,
                               name, False, path, sep))
    items.sort(key=lambda it: (it.start, -it.end, it.scope is False, it.name))
    if ecma:
        items = _collapse_overloads(items, {id(it) for it in items if it.ntype in _SIGNATURES})
    elif language == "python" and b"overload" in source:
        items = _collapse_overloads(
            items, {id(it) for it in items if _python_overload(source, it)})
    return items


def _prototype_target(source: bytes, node: Node) -> bool:
    left = node.child_by_field_name("left")
    return left is not None and node_text(source, left).endswith(".prototype")


def _exported_object(node: Node, path: str, transparent: bool, items: list[_Item]) -> None:
    """`module.exports = {...}` (named after the module; its members keep their own names, as
    `exports.x` would), `exports.api = {...}`, `this.handlers = {...}`: object symbols."""
    right = node.child_by_field_name("right")
    if right is None or right.named_child_count == 0:
        return  # `module.exports = {}`: filled in later, one assignment at a time
    if transparent and not defines_something(right):
        return  # `module.exports = { helper, other: helper }`: re-exports
    outer = _outer(node)
    items.append(_Item(node, node.type, outer, outer.start_byte, outer.end_byte, "object",
                       path.rsplit(".", 1)[-1], False, path, transparent=transparent))


def _package_scopes(language: str, source: bytes, nodes: list[Node], items: list[_Item]) -> None:
    """`package a.b;` / `namespace A\\B;` qualify everything up to the next one (or the end)."""
    ordered = sorted(nodes, key=lambda n: n.start_byte)
    for i, node in enumerate(ordered):
        path = scope_name(language, source, node)
        if not path:
            continue
        end = ordered[i + 1].start_byte if i + 1 < len(ordered) else len(source) + 1
        items.append(_Item(node, node.type, node, node.start_byte, end, "namespace",
                           path, True, path))


def _container(node: Node) -> int:
    """Start of the block that holds a declaration (overloads share it)."""
    parent = node.parent
    while parent is not None and parent.type in ("export_statement", "ambient_declaration"):
        parent = parent.parent
    return parent.start_byte if parent is not None else -1


def _python_overload(source: bytes, it: _Item) -> bool:
    """A def under `@overload` (`@typing.overload`, `@t.overload`): a signature only."""
    outer = it.outer
    if outer is it.node or outer.type != "decorated_definition":
        return False
    for child in outer.named_children:
        if child.type == "decorator":
            text = node_text(source, child).lstrip("@").strip()
            if text == "overload" or text.endswith(".overload"):
                return True
    return False


def _collapse_overloads(items: list[_Item], signatures: set[int]) -> list[_Item]:
    """Overloads -> one symbol: the implementation, its range starting at the first overload
    (whose doc comment is the symbol's); or the first signature when there is no
    implementation (a `declare`d or abstract API, a `.pyi` stub). Callers of an overloaded
    function then find one symbol, not one per signature. `signatures`: ids of the items
    that are signatures only."""
    if not signatures:
        return items
    first_signature: dict[tuple[int, str], _Item] = {}
    for it in items:  # in document order
        if id(it) in signatures:
            first_signature.setdefault((_container(it.outer), it.path), it)
    kept: list[_Item] = []
    implemented: set[tuple[int, str]] = set()
    for it in items:
        if it.scope or id(it) in signatures:
            continue
        key = (_container(it.outer), it.path)
        lead = first_signature.get(key)
        if lead is not None and lead.start < it.start:
            it.lead, it.start = lead.outer, lead.start
            implemented.add(key)
    seen: set[tuple[int, str]] = set()
    for it in items:
        if id(it) in signatures:
            key = (_container(it.outer), it.path)
            if key in implemented or key in seen:
                continue
            seen.add(key)
        kept.append(it)
    if implemented:
        kept.sort(key=lambda it: (it.start, -it.end, it.scope is False, it.name))
    return kept


def _this_owner(definitions: list[Definition], enclosing: tuple[int, str, str, int]) -> str:
    """What `this` is where `this.x = function () {}` is written: the class of the method
    around it (`this.onClose` in `A.constructor` is `A.onClose`), else the enclosing symbol
    (a constructor function: `Foo.bar`)."""
    _end, qualified, kind, index = enclosing
    if kind == "method" and index >= 0 and definitions[index].parent >= 0:
        return definitions[definitions[index].parent].symbol.qualified_name
    return qualified


def _join(outer: str, inner: str) -> str:
    return f"{outer}.{inner}" if outer and inner else outer or inner


def collect_definitions(
    language: str, file_path: str, source: bytes, captures: dict[str, list[Node]]
) -> list[Definition]:
    """Symbols in document order, each with its nodes and the index of its parent."""
    definitions: list[Definition] = []
    # (end_byte, qualified name, kind, index of the innermost symbol at or above this entry:
    # a scope such as an impl block is not a symbol, so it carries its own parent's index)
    stack: list[tuple[int, str, str, int]] = []
    seen_ids: dict[str, int] = {}
    native = language in NATIVE
    for item in _items(language, file_path, source, captures):
        start, end = item.start, item.end
        while stack and stack[-1][0] <= start:
            stack.pop()
        enclosing = stack[-1] if stack else None
        kind = item.kind
        if kind == "function" and enclosing is not None and enclosing[2] in _METHOD_OWNERS:
            kind = "method"
        elif kind == "method" and language == "ruby" and item.sep is None and (
                enclosing is None or enclosing[2] not in _METHOD_OWNERS):
            kind = "function"  # a top-level `def`
        if item.ntype == "method_declaration" and language == "go":  # func (s *Server) Start()
            qualified = f"{_go_receiver(source, item.node)}.{item.name}"
        elif enclosing is not None:
            if native and enclosing[1] and (item.path or not item.scope):
                sep = item.sep or separator(language, enclosing[2], kind)
                qualified = f"{enclosing[1]}{sep}{item.path or item.name}"
            elif item.path.startswith("this."):
                qualified = _join(_this_owner(definitions, enclosing), item.path[5:])
            else:
                qualified = _join(enclosing[1], item.path or item.name)
        else:
            qualified = item.path.removeprefix("this.") or item.name
        parent = enclosing[3] if enclosing is not None else -1
        if item.scope:
            stack.append((end, qualified, kind, parent))
            continue
        owns = item.ntype != "type_definition"  # a C typedef's struct is not its member
        signature = _signature(source, item, language)
        sid = symbol_id(language, file_path, kind, qualified, signature)
        repeat = seen_ids.get(sid, 0)
        seen_ids[sid] = repeat + 1
        if repeat:
            # the same definition twice (e.g. under if/else): ids must stay unique per file
            sid = symbol_id(language, file_path, kind, f"{qualified}#{repeat + 1}", signature)
        outer = item.outer
        lead = item.lead if item.lead is not None else outer
        sp, ep = lead.start_point, outer.end_point
        node = item.node
        symbol = Symbol(
            id=sid,
            language=language,
            file_path=file_path,
            kind=kind,
            name=item.name,
            qualified_name=qualified,
            signature=signature,
            start_line=sp.row + 1,
            start_col=sp.column + 1,
            end_line=ep.row + 1,
            end_col=max(ep.column, 1),
            start_byte=start,
            end_byte=end,
            content_hash=content_hash(source[start:end]),
        )
        anchor = _anchor(lead) if language in _EXPORTING else outer
        definitions.append(Definition(symbol, node, outer, anchor,
                                      _function_node(node, item.ntype), parent))
        if owns:
            inner = enclosing[1] if item.transparent and enclosing is not None else (
                "" if item.transparent else qualified)
            stack.append((end, inner, kind, len(definitions) - 1))
    return definitions
