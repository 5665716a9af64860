"""Names for JavaScript as it is really written: functions assigned to properties, object
literals and their members (`ecma_item` names every JS/TS definition capture).

`res.send = function send() {}` is `res.send`; `Layer.prototype.match = ...` is `Layer.match`;
`exports.x = ...` and `module.exports.x = ...` are `x`; `module.exports = function query() {}`
is `query` (the file's module name when anonymous); `proto.route = ...` is `Router.route` when
`proto` is known to be a prototype (`var proto = Router.prototype`, or `proto` is what the
module exports and the module is `router`), else `proto.route`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from tree_sitter import Node

_PROTOTYPE = ".prototype"
_EXPORTS = frozenset({"exports", "module.exports"})
# Variable names that say "the prototype of what this module exports" and nothing else.
_PROTO_NAMES = frozenset({"proto", "prototype", "fn"})
# Parents of a function expression that its own definition pattern already covers.
# TypeScript's `x as T` and `x satisfies T` around an object literal: the object is what is
# named (`const routes = {...} as const`).
TS_CASTS = frozenset({"as_expression", "satisfies_expression"})
_VALUE_HOLDERS = frozenset({"assignment_expression", "variable_declarator", "pair",
                            "field_definition", "public_field_definition"})


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", errors="replace")


def module_name(file_path: str) -> str:
    """`lib/middleware/query.js` -> `query`; `lib/router/index.js` -> `router`."""
    path = PurePosixPath(file_path)
    stem = path.name.split(".", 1)[0]
    if stem == "index" and path.parent.name:
        return path.parent.name
    return stem or "module"


def _pascal(name: str) -> str:
    words = [w for w in name.replace("-", "_").split("_") if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or name


@dataclass(slots=True)
class Aliases:
    """Top-level variables that stand for something else: owner variable -> owner name."""

    owners: dict[str, str]
    module: str

    @classmethod
    def of(cls, source: bytes, file_path: str, nodes: list[Node]) -> Aliases:
        module = module_name(file_path)
        owners: dict[str, str] = {}
        for node in sorted(nodes, key=lambda n: n.start_byte):
            if node.type == "variable_declarator":
                name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            else:  # module.exports = proto
                name, value = node.child_by_field_name("right"), node.child_by_field_name("left")
            if name is None or value is None:
                continue
            var, bound = _text(source, name), _text(source, value)
            if value.type == "member_expression" and bound.endswith(_PROTOTYPE):
                owners[var] = bound[:-len(_PROTOTYPE)]  # var proto = Router.prototype
            elif var in _PROTO_NAMES and _exports_module(source, value):
                owners[var] = _pascal(module)  # var proto = module.exports = function () {}
        return cls(owners, module)


def _exports_module(source: bytes, value: Node) -> bool:
    """`module.exports`, or an assignment chain that ends up in it."""
    node: Node | None = value
    while node is not None:
        if node.type == "member_expression":
            return _text(source, node) in _EXPORTS
        if node.type == "identifier":
            return _text(source, node) == "exports"
        if node.type != "assignment_expression":
            return False
        left = node.child_by_field_name("left")
        if left is not None and _text(source, left) in _EXPORTS:
            return True
        node = node.child_by_field_name("right")
    return False


def assignment_path(source: bytes, node: Node, aliases: Aliases) -> tuple[str, bool] | None:
    """The qualified name of `left = function ...` relative to where it is written, and
    whether it is a method (of an object, a prototype or `this`; not of `exports`). None
    when the name is computed (`proto[method] = ...`)."""
    left = node.child_by_field_name("left")
    right = node.child_by_field_name("right")
    if left is None or right is None:
        return None
    target = " ".join(_text(source, left).split())
    if target in _EXPORTS:  # module.exports = function query() {}
        own = right.child_by_field_name("name")
        return (_text(source, own) if own is not None else aliases.module), False
    if left.type == "subscript_expression":
        return None  # computed: `proto[method] = ...`
    if left.type != "member_expression":
        return target, False  # plain `handler = function () {}`
    prop = left.child_by_field_name("property")
    obj = left.child_by_field_name("object")
    if prop is None or obj is None or prop.type not in ("property_identifier",
                                                        "private_property_identifier"):
        return None  # proto[method] = function () {}
    name = _text(source, prop)
    owner = " ".join(_text(source, obj).split())
    if owner in _EXPORTS:
        return name, False
    if owner == "this":  # the class or constructor function around it decides (definitions)
        return f"this.{name}", True
    if owner.endswith(_PROTOTYPE):
        return f"{owner[:-len(_PROTOTYPE)]}.{name}", True
    aliased = aliases.owners.get(owner)
    if aliased is not None:
        return f"{aliased}.{name}", True
    if owner.startswith(("module.exports.", "exports.")):
        owner = owner.split("exports.", 1)[1]
    return f"{owner}.{name}", True


def object_scope_path(source: bytes, node: Node, aliases: Aliases) -> str | None:
    """The name an object literal's members are qualified with, "" for none (members of
    `module.exports = {...}` are top-level names), None when the object has no usable name."""
    if node.type == "variable_declarator":
        name = node.child_by_field_name("name")
        return _text(source, name) if name is not None and name.type == "identifier" else None
    if node.type == "pair":
        key = node.child_by_field_name("key")
        return property_key(source, key) if key is not None else None
    left = node.child_by_field_name("left")  # assignment_expression
    if left is None:
        return None
    target = " ".join(_text(source, left).split())
    if target in _EXPORTS:
        return ""
    if target.endswith(_PROTOTYPE):
        return target[:-len(_PROTOTYPE)]
    if target.startswith(("module.exports.", "exports.")):
        return target.split("exports.", 1)[1]
    return aliases.owners.get(target, target)


def property_key(source: bytes, key: Node) -> str | None:
    """An object key usable as a name: `get`, `'get'`, `"x-y"`; None for computed keys."""
    if key.type in ("property_identifier", "identifier", "private_property_identifier"):
        return _text(source, key)
    if key.type == "string":
        return _text(source, key).strip("\"'`") or None
    if key.type == "number":
        return _text(source, key)
    return None


_REFERENCES = frozenset({"shorthand_property_identifier", "identifier", "member_expression",
                         "spread_element", "comment"})


def defines_something(obj: Node | None) -> bool:
    """An object literal with at least one member that is not a mere reference:
    `module.exports = { helper, other: helper }` only re-exports what is defined elsewhere, as
    `export { helper }` does, and is no symbol of its own."""
    if obj is None:
        return False
    for member in obj.named_children:
        if member.type == "pair":
            value = member.child_by_field_name("value")
            if value is None or value.type not in _REFERENCES:
                return True
        elif member.type not in _REFERENCES:
            return True
    return False


def _named_object_chain(pair: Node) -> bool:
    """Whether a `key: {...}` pair sits in objects that lead up to a named one (a variable,
    `module.exports`, `X.prototype`), rather than in an argument or a return value."""
    node = pair.parent  # the object holding the pair
    while node is not None and node.type == "object":
        holder = node.parent
        while holder is not None and holder.type in TS_CASTS:
            holder = holder.parent
        if holder is None:
            return False
        if holder.type in ("variable_declarator", "assignment_expression"):
            return True
        if holder.type != "pair":
            return False
        node = holder.parent
    return False


_ACCESSORS = frozenset({"get", "set", "value"})
_DEFINERS = frozenset({"Object.defineProperty", "Object.defineProperties",
                       "Reflect.defineProperty"})


def _accessor_path(source: bytes, member: Node, name: str, aliases: Aliases) -> str | None:
    """`Object.defineProperties(Reply.prototype, { sent: { get () {} } })` and
    `Object.defineProperty(Reply.prototype, 'sent', { get: function () {} })`: the accessor
    is `Reply.sent` (not one of many symbols named `get`); None for any other member."""
    descriptor = member.parent
    holder = descriptor.parent if descriptor is not None else None
    if name not in _ACCESSORS or holder is None:
        return None
    if holder.type == "pair":  # defineProperties: { sent: <descriptor> }
        key = holder.child_by_field_name("key")
        prop = property_key(source, key) if key is not None else None
        args = holder.parent.parent if holder.parent is not None else None
    else:  # defineProperty(target, 'sent', <descriptor>)
        args = holder
        given = [a for a in holder.named_children if a.type != "comment"]
        prop = _text(source, given[1]).strip("\"'`") if len(given) == 3 and \
            given[1].type == "string" else None
    if prop is None or args is None or args.type != "arguments":
        return None
    call = args.parent
    if call is None or call.type != "call_expression":
        return None
    callee = call.child_by_field_name("function")
    target = next((a for a in args.named_children if a.type != "comment"), None)
    if callee is None or _text(source, callee) not in _DEFINERS or target is None:
        return None
    owner = " ".join(_text(source, target).split()).removesuffix(_PROTOTYPE)
    if owner == "this" or not all(p.isidentifier() for p in owner.split(".")):
        return prop
    return f"{aliases.owners.get(owner, owner)}.{prop}"


def ecma_item(source: bytes, node: Node, ntype: str, kind: str, aliases: Aliases,
              name_of: Callable[[bytes, Node, str], str | None]) -> tuple[str, str, str] | None:
    """(name, relative qualified path, kind) of a JS/TS definition the generic rule cannot
    name; None to drop it. `name_of` is the generic rule (a node's name field)."""
    if kind == "method" and ntype in ("method_definition", "pair"):
        key = node.child_by_field_name("name" if ntype == "method_definition" else "key")
        member = property_key(source, key) if key is not None else None
        path = _accessor_path(source, node, member, aliases) if member else None
        if path is not None:
            return path.rsplit(".", 1)[-1], path, kind
    if ntype == "assignment_expression":
        found = assignment_path(source, node, aliases)
        if found is None:  # validators[type] = function validator() {}: its own name
            right = node.child_by_field_name("right")
            own = right.child_by_field_name("name") if right is not None else None
            if own is None:
                return None
            own_name = _text(source, own)
            return own_name, own_name, kind
        path, method = found
        right = node.child_by_field_name("right")
        if right is not None and right.type == "class":
            return path.rsplit(".", 1)[-1], path, "class"
        return path.rsplit(".", 1)[-1], path, "method" if method else kind
    if ntype == "pair":
        if kind == "object" and not _named_object_chain(node):
            return None  # an options object passed to a call is data, not a definition
        key = node.child_by_field_name("key")
        key_name = property_key(source, key) if key is not None else None
        return (key_name, key_name, kind) if key_name else None
    parent = node.parent
    ptype = parent.type if parent is not None else ""
    if ntype in ("function_expression", "arrow_function"):
        if ptype in _VALUE_HOLDERS:
            return None  # named by the declarator / pair / assignment that holds it
        if ptype == "export_statement":  # export default function () {}
            default = name_of(source, node, ntype) or aliases.module
            return default, default, kind
    name = name_of(source, node, ntype)
    return (name, name, kind) if name else None
