"""Names, kinds and separators for Java, C, C++, C#, Ruby, PHP, Kotlin and Swift.

Qualified names are spelled the way each language's developers write them: `pkg.Class.method`
(Java, Kotlin, C#, Swift), `ns::Class::method` (C++), `Module::Class#method` and
`Class.singleton_method` (Ruby), `Ns\\Class::method` and `Ns\\function` (PHP).
"""

from __future__ import annotations

import re

from tree_sitter import Node

NATIVE = frozenset({"java", "c", "cpp", "csharp", "ruby", "php", "kotlin", "swift"})

_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")
# Declarator wrappers around a C/C++ function's or typedef's name.
_DECLARATOR_WRAPPERS = frozenset({
    "pointer_declarator", "reference_declarator", "parenthesized_declarator",
    "attributed_declarator", "function_declarator", "array_declarator",
})
_SWIFT_KINDS = {"class": "class", "actor": "class", "struct": "struct", "enum": "enum"}
# Scope kinds (not symbols) that make a function inside them a method.
SCOPE_KINDS = {"namespace_definition": "namespace", "namespace_declaration": "namespace",
               "singleton_class": "singleton", "companion_object": "class",
               "class_declaration": "class"}


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", errors="replace")


def _strip_templates(text: str) -> str:
    """`Cache<std::vector<int>>::get` -> `Cache::get`."""
    previous = None
    while previous != text and "<" in text:
        previous, text = text, _TEMPLATE_ARGS.sub("", text)
    return "".join(text.split())


def _declarator_name(node: Node | None) -> Node | None:
    """The name inside `*(*f)(int)`, `&g(...)`, `Cls::m(...) const`."""
    while node is not None and node.type in _DECLARATOR_WRAPPERS:
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = node.named_child(0) if node.named_child_count else None
        node = inner
    return node


def _c_function(source: bytes, node: Node, language: str) -> tuple[str, str, str | None] | None:
    name = _declarator_name(node.child_by_field_name("declarator"))
    if name is None or name.type in ("parenthesized_expression", "call_expression"):
        return None  # a macro that tree-sitter read as a function
    text = _strip_templates(_text(source, name)) if language == "cpp" else _text(source, name)
    if not text or text.startswith("("):
        return None
    if "::" not in text:
        return text, text, None
    qualifier, _, last = text.rpartition("::")
    owner = qualifier.rpartition("::")[2]
    # `Cache::get`, `Cache::Cache`, `Cache::~Cache` are methods; `detail::helper` is not
    method = owner[:1].isupper() or last in (owner, f"~{owner}")
    return last, text, "method" if method else None


def typedef_names(source: bytes, node: Node) -> list[str]:
    """Every name a C/C++ typedef declares: `typedef struct {...} A, *PA;` -> [A, PA]."""
    names = []
    for declarator in node.children_by_field_name("declarator"):
        name = _declarator_name(declarator)
        if name is not None:
            names.append(_text(source, name))
    return names


def _c_typedef(source: bytes, node: Node) -> str | None:
    names = typedef_names(source, node)
    return names[0] if names else None


def _kotlin_class_kind(node: Node) -> str:
    for child in node.children:
        ctype = child.type
        if ctype == "interface":
            return "interface"
        if ctype == "modifiers" and "enum" in (c.type for c in child.children
                                              for c in (c, *c.children)):
            return "enum"
        if ctype in ("class_body", "enum_class_body"):
            break
    return "class"


def native_item(language: str, source: bytes, node: Node, ntype: str,
                kind: str) -> tuple[str, str, str, str | None] | None:
    """(name, relative qualified path, kind, separator override) of a definition, or None to
    drop it (no usable name). The override is Ruby's `.` for singleton methods."""
    if ntype == "function_definition" and language in ("c", "cpp"):
        found = _c_function(source, node, language)
        if found is None:
            return None
        name, path, override_kind = found
        return name, path, override_kind or kind, None
    if ntype == "type_definition":
        alias = _c_typedef(source, node)
        return (alias, alias, kind, None) if alias else None
    if language == "kotlin":
        if ntype == "type_alias":
            alias_node = node.child_by_field_name("type")
            text = _text(source, alias_node) if alias_node is not None else ""
            return (text, text, kind, None) if text else None
        if ntype == "class_declaration":
            kind = _kotlin_class_kind(node)
    if language == "swift" and ntype == "class_declaration":
        declared = node.child_by_field_name("declaration_kind")
        kind = _SWIFT_KINDS.get(declared.type if declared is not None else "", "class")
    if ntype == "init_declaration":
        return "init", "init", kind, None
    if ntype == "deinit_declaration":
        return "deinit", "deinit", kind, None
    if ntype == "subscript_declaration":
        return "subscript", "subscript", kind, None
    if ntype in ("operator_declaration", "conversion_operator_declaration"):  # C#
        op = node.child_by_field_name("operator") or node.child_by_field_name("type")
        text = f"operator {_text(source, op)}" if op is not None else "operator"
        return text, text, kind, None
    name_node = node.child_by_field_name("name")
    if name_node is None:
        return None
    text = _text(source, name_node)
    if language == "cpp":
        text = _strip_templates(text)
    elif language == "csharp" and ntype == "destructor_declaration":
        text = f"~{text}"
    if not text:
        return None
    if language == "ruby":
        if ntype == "singleton_method":
            obj = node.child_by_field_name("object")
            if obj is not None and obj.type != "self":
                return text, f"{_text(source, obj)}.{text}", kind, "."
            return text, text, kind, "."
        return text.rpartition("::")[2], text, kind, None  # class Rack::Other
    return text.rpartition("::")[2], text, kind, None


def swift_extension(source: bytes, node: Node) -> str | None:
    """`extension Point: Equatable {...}`: a scope named after the extended type."""
    declared = node.child_by_field_name("declaration_kind")
    if declared is None or declared.type != "extension":
        return None
    name = node.child_by_field_name("name")
    return _strip_templates(_text(source, name)) if name is not None else None


def scope_name(language: str, source: bytes, node: Node) -> str | None:
    """The path a scope node (namespace, companion object, `class << self`) adds: "" for none
    (members keep the enclosing name), None when it is unusable."""
    ntype = node.type
    if ntype in ("singleton_class", "companion_object"):
        if ntype == "companion_object":
            name = node.child_by_field_name("name")
            return _text(source, name) if name is not None else ""
        return ""
    name = node.child_by_field_name("name")
    if name is None:
        name = node.named_child(0) if node.named_child_count else None  # package headers
    if name is None:
        return None
    text = "".join(_text(source, name).split())
    return _strip_templates(text) if language == "cpp" else text


def separator(language: str, outer_kind: str, inner_kind: str) -> str:
    """What goes between an enclosing name and a member's name."""
    if language == "cpp":
        return "::"
    if language == "php":
        return "\\" if outer_kind == "namespace" else "::"
    if language == "ruby":
        if outer_kind == "singleton":
            return "."
        return "#" if inner_kind == "method" else "::"
    return "."
