"""Import statements -> the modules a file imports and the local names they bind.

`ImportedName.module` is what a dependency list shows (`numpy`, `./util`, `std::fs::File`,
`net/http`); `ImportedName.target` is what a call through the name really reaches, in the
spelling the side-effect tables use (`sp.run` -> `subprocess.run`, `nh.Get` -> `http.Get`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node

from aether.symbols.definitions import node_text
from aether.symbols.native_names import NATIVE

_GO_MAJOR_VERSION = re.compile(r"v\d+")


@dataclass(frozen=True, slots=True)
class ImportedName:
    module: str
    target: str


@dataclass(slots=True)
class Imports:
    modules: list[str]
    names: dict[str, ImportedName]  # local name -> what it refers to


def _python(source: bytes, node: Node, out: Imports) -> None:
    if node.type == "import_statement":
        for name in node.children_by_field_name("name"):
            if name.type == "aliased_import":
                dotted = name.child_by_field_name("name")
                alias = name.child_by_field_name("alias")
                if dotted is None or alias is None:
                    continue
                module = node_text(source, dotted)
                out.modules.append(module)
                out.names[node_text(source, alias)] = ImportedName(module, module)
            else:
                module = node_text(source, name)
                out.modules.append(module)
                head = module.split(".", 1)[0]
                out.names.setdefault(head, ImportedName(module, head))
        return
    module_node = node.child_by_field_name("module_name")
    if module_node is None:
        return
    module = node_text(source, module_node)
    out.modules.append(module)
    joiner = "" if module.endswith(".") else "."
    for name in node.children_by_field_name("name"):
        local = name
        if name.type == "aliased_import":
            alias = name.child_by_field_name("alias")
            inner = name.child_by_field_name("name")
            if alias is None or inner is None:
                continue
            local, name = alias, inner
        target = f"{module}{joiner}{node_text(source, name)}"
        out.names[node_text(source, local)] = ImportedName(target, target)


def _js_target(module: str) -> str:
    # `node:fs/promises` -> `fs.promises`, so calls resolve to the spelling the tables use
    if module.startswith("node:"):
        module = module[5:]
    return module.replace("/", ".") if not module.startswith(".") else module


def _js_string(source: bytes, node: Node) -> str:
    return node_text(source, node).strip("\"'`")


def _js_bind_pattern(source: bytes, pattern: Node, module: str, out: Imports) -> None:
    target = _js_target(module)
    if pattern.type == "identifier":
        out.names[node_text(source, pattern)] = ImportedName(module, target)
    elif pattern.type == "object_pattern":  # const { exec } = require("child_process")
        for prop in pattern.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                name = node_text(source, prop)
                out.names[name] = ImportedName(module, f"{target}.{name}")
            elif prop.type == "pair_pattern":
                key, value = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                if key is not None and value is not None and value.type == "identifier":
                    out.names[node_text(source, value)] = ImportedName(
                        module, f"{target}.{node_text(source, key)}")


def _js_import(source: bytes, node: Node, out: Imports) -> None:
    source_node = node.child_by_field_name("source")
    if source_node is None:
        return
    module = _js_string(source, source_node)
    out.modules.append(module)
    target = _js_target(module)
    for clause in node.named_children:
        if clause.type != "import_clause":
            continue
        for part in clause.named_children:
            if part.type == "identifier":  # default import
                out.names[node_text(source, part)] = ImportedName(module, target)
            elif part.type == "namespace_import":
                for ident in part.named_children:
                    out.names[node_text(source, ident)] = ImportedName(module, target)
            elif part.type == "named_imports":
                for spec in part.named_children:
                    name = spec.child_by_field_name("name")
                    if name is None:
                        continue
                    alias = spec.child_by_field_name("alias") or name
                    out.names[node_text(source, alias)] = ImportedName(
                        module, f"{target}.{node_text(source, name)}")


def _js_call(source: bytes, call: Node, out: Imports) -> None:
    """`require("x")` / `import("x")`, bound by `const x = require("x")` when it is."""
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if function is None or arguments is None or arguments.named_child_count == 0:
        return
    if function.type != "import" and node_text(source, function) != "require":
        return
    module = _js_string(source, arguments.named_children[0])
    out.modules.append(module)
    declarator = call.parent
    if declarator is not None and declarator.type == "variable_declarator":
        pattern = declarator.child_by_field_name("name")
        if pattern is not None:
            _js_bind_pattern(source, pattern, module, out)


def _rust_use(source: bytes, node: Node | None, prefix: str, out: Imports) -> None:
    if node is None:
        return
    ntype = node.type
    if ntype == "self" and prefix:  # use std::io::{self} imports and binds `io`
        path = prefix[:-2]
        out.modules.append(path)
        out.names[path.rsplit("::", 1)[-1]] = ImportedName(path, path)
    elif ntype in ("identifier", "scoped_identifier", "crate", "self", "super"):
        path = prefix + node_text(source, node)
        out.modules.append(path)
        local = path.rsplit("::", 1)[-1]
        if local not in ("self", "super", "crate"):
            out.names[local] = ImportedName(path, path)
    elif ntype == "use_as_clause":
        path_node, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path_node is not None and alias is not None:
            path = prefix + node_text(source, path_node)
            out.modules.append(path)
            out.names[node_text(source, alias)] = ImportedName(path, path)
    elif ntype == "scoped_use_list":
        path_node = node.child_by_field_name("path")
        inner = prefix + (node_text(source, path_node) + "::" if path_node is not None else "")
        _rust_use(source, node.child_by_field_name("list"), inner, out)
    elif ntype == "use_list":
        for child in node.named_children:
            _rust_use(source, child, prefix, out)
    elif ntype == "use_wildcard":
        out.modules.append(prefix + node_text(source, node))


def _rust(source: bytes, node: Node, out: Imports) -> None:
    if node.type == "use_declaration":
        _rust_use(source, node.child_by_field_name("argument"), "", out)
        return
    name = node.child_by_field_name("name")  # extern crate foo [as bar];
    if name is not None:
        crate = node_text(source, name)
        out.modules.append(crate)
        alias = node.child_by_field_name("alias")
        out.names[node_text(source, alias) if alias is not None else crate] = ImportedName(
            crate, crate)


def _go(source: bytes, node: Node, out: Imports) -> None:
    path_node = node.child_by_field_name("path")
    if path_node is None:
        return
    path = node_text(source, path_node).strip("\"`")
    out.modules.append(path)
    segments = path.split("/")
    package = segments[-1]
    if _GO_MAJOR_VERSION.fullmatch(package) and len(segments) > 1:
        package = segments[-2]  # github.com/x/y/v2 is package y
    name_node = node.child_by_field_name("name")
    local = node_text(source, name_node) if name_node is not None else package
    if local not in ("_", "."):
        out.names[local] = ImportedName(path, package)


_IMPORT_KEYWORDS = frozenset({"import", "using", "use"})
_IMPORT_MODIFIERS = frozenset({"static", "function", "const", "global", "struct", "class",
                               "enum", "protocol", "func", "typealias", "var", "let"})
_REQUIRES = frozenset({"require", "require_relative", "load", "autoload"})
_STRING_TYPES = frozenset({"string", "string_literal", "encapsed_string", "system_lib_string"})


def _first_string(source: bytes, node: Node) -> str | None:
    """The first string literal under `node` (breadth first), unquoted."""
    queue = [node]
    while queue:
        current = queue.pop(0)
        if current.type in _STRING_TYPES:
            return node_text(source, current).strip("\"'<>")
        queue.extend(current.named_children)
    return None


def _bind_last(module: str, out: Imports, separator: str) -> None:
    """`java.io.File` binds `File`: calls through it keep the spelling the code uses."""
    last = module.rsplit(separator, 1)[-1]
    if last and last != "*":
        out.names[last] = ImportedName(module, last)


def _native(language: str, source: bytes, node: Node, out: Imports) -> None:
    """Imports, includes, usings and requires of the languages added after the first six."""
    ntype = node.type
    if language in ("c", "cpp"):
        path = node.child_by_field_name("path")
        if path is not None:
            out.modules.append(node_text(source, path).strip("\"<>"))
        elif ntype == "using_declaration":
            out.modules.append(" ".join(node_text(source, node).split()[1:]).rstrip(";"))
        return
    if language == "ruby":
        method = node.child_by_field_name("method")
        if method is not None and node_text(source, method) in _REQUIRES:
            found = _first_string(source, node)
            if found:
                out.modules.append(found)
        return
    if language == "php" and ntype != "namespace_use_declaration":
        found = _first_string(source, node)  # include / require
        if found:
            out.modules.append(found)
        return
    text = " ".join(node_text(source, node).split()).rstrip(";")
    words = text.split(" ")
    # the keyword can follow modifiers: `@testable import X`, `internal import X`,
    # `global using System;`
    keyword = next((i for i, w in enumerate(words) if w in _IMPORT_KEYWORDS), 0)
    # `import static a.b.C;` / `using static System.Math;` / `use function A\f;` /
    # Swift `import struct Foundation.Date`
    words = [w for w in words[keyword + 1:] if w not in _IMPORT_MODIFIERS]
    if not words:
        return
    if language == "php":
        prefix = ""
        joined = " ".join(words)
        if "{" in joined:  # use A\{B, C as D};
            prefix, _, rest = joined.partition("{")
            parts = rest.rstrip("}").split(",")
        else:
            parts = joined.split(",")
        for part in parts:
            name, _, alias = part.strip().partition(" as ")
            module = (prefix + name.strip()).lstrip("\\")
            if module:
                out.modules.append(module)
                last = alias.strip() or module.rsplit("\\", 1)[-1]
                out.names[last] = ImportedName(module, last)
        return
    if language == "csharp" and "=" in words:  # using Alias = Some.Namespace.Type;
        alias = words[0]
        module = "".join(words[words.index("=") + 1:])
        out.modules.append(module)
        out.names[alias] = ImportedName(module, module.rsplit(".", 1)[-1])
        return
    module = words[0]
    out.modules.append(module)
    if language in ("java", "kotlin"):
        if len(words) >= 3 and words[1] == "as":  # Kotlin: import a.B as C
            out.names[words[2]] = ImportedName(module, module.rsplit(".", 1)[-1])
        else:
            _bind_last(module, out, ".")


def collect_imports(language: str, source: bytes, captures: dict[str, list[Node]]) -> Imports:
    out = Imports([], {})
    nodes = sorted(captures.get("import", []), key=lambda n: n.start_byte)
    for node in nodes:
        if language == "python":
            _python(source, node, out)
        elif language == "rust":
            _rust(source, node, out)
        elif language == "go":
            _go(source, node, out)
        elif language in NATIVE:
            _native(language, source, node, out)
        else:
            _js_import(source, node, out)
    # captures come in no fixed order (not even run to run): sort by position
    for string in sorted(captures.get("import.source", []), key=lambda n: n.start_byte):
        out.modules.append(_js_string(source, string))  # export ... from "x"
    for call in sorted(captures.get("import.call", []), key=lambda n: n.start_byte):
        _js_call(source, call, out)
    out.modules = [m for m in dict.fromkeys(out.modules) if m]
    return out


def names_bound_by(language: str, source: bytes, nodes: Iterable[Node]) -> set[str]:
    """The local names some of a file's import statements bind (Python: an import inside
    a function binds there only, though the file's bindings hold it too)."""
    out = Imports([], {})
    if language == "python":
        for node in nodes:
            _python(source, node, out)
    return set(out.names)
