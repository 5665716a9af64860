"""The declared shape of one symbol: intent (doc or name), inputs, declared outputs, and how
much the analyser can trust it. Read from a few fields of the definition node, never by
walking bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from aether.sir.static_text import comment_text, docstring_text, first_sentence, intent_from_name
from aether.symbols.definitions import Definition, node_text
from aether.symbols.extract import ParsedSource

MAX_DETAIL = 60
_SKIPPED_PARAMS = frozenset({"self", "cls", "this", "&self", "&mut self", "mut self", "void"})
_PARAM_SKIP_TYPES = frozenset({"comment", "positional_separator", "keyword_separator",
                               "self_parameter", "attribute_item", "line_comment",
                               "block_comment"})
_TYPED_PY_PARAMS = frozenset({"typed_parameter", "typed_default_parameter"})
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "multiline_comment"})
_LEADING_TYPES = _COMMENT_TYPES | {"attribute_item"}
_CONSTRUCTORS = frozenset({"__init__", "constructor", "initialize", "__construct", "init"})
_STATICALLY_TYPED = frozenset({"rust", "go", "java", "c", "cpp", "csharp", "kotlin", "swift"})
_COLON_TYPED = frozenset({"typescript", "tsx", "kotlin", "swift"})
# Where the declared result lives, by language (the field of the function node).
_RESULT_FIELDS = {"java": "type", "c": "type", "cpp": "type", "csharp": "returns"}
_FIELD_LISTS = frozenset({"field_declaration_list", "ordered_field_declaration_list"})


MAX_DOC_CHARS = 600


@dataclass(slots=True)
class Shape:
    intent: str
    signature: str
    inputs: list[str] = field(default_factory=list)
    go_style: bool = False  # `a, b int`: names first, type last
    returns_type: list[str] | None = None  # declared result, as written
    expression_body: str | None = None  # `(x) => x * 2`: the returned expression
    documented: bool = False
    typed: bool = False
    has_error: bool = False
    doc_text: str = ""  # the documentation beyond its first sentence, for search (capped)


def _squash(text: str) -> str:
    if "\n" in text or "  " in text or "\t" in text:
        return " ".join(text.split())
    return text.strip()


def parameter_names(shape: Shape) -> set[str]:
    """Names of the parameters (`path: str = "x"` -> `path`; Go `a, b int` -> `a`, `b`)."""
    names: set[str] = set()
    for text in shape.inputs:
        head = text.lstrip("*.&").split(":", 1)[0].split("=", 1)[0]
        words = head.replace(",", " ").split()
        if words:
            # Go lists names before one type (`a, b int`); elsewhere the name comes last,
            # after modifiers such as `private` or `mut`
            names.update(words[:-1] if shape.go_style and len(words) > 1 else words[-1:])
    return names


def _leading_comments(source: bytes, anchor: Node) -> str:
    """The comment block directly above a definition (no blank line in between, except
    after a `/** */` doc block); Rust attributes between the docs and the item are skipped."""
    sibling = anchor.prev_named_sibling
    if sibling is None and anchor.parent is not None and anchor.parent.type == "body_statement":
        sibling = anchor.parent.prev_named_sibling  # Ruby keeps a body's first comment outside
    if sibling is None or sibling.type not in _LEADING_TYPES:
        return ""  # the common case, settled before any position is read
    found: list[str] = []
    expected_row = anchor.start_point.row
    while sibling is not None:
        stype = sibling.type
        end = sibling.end_point
        end_row = end.row - 1 if end.column == 0 and end.row > sibling.start_point.row else end.row
        # A `/** ... */` doc block may stand one blank line above its item (common in JS);
        # any other comment must touch it.
        gap = 2 if not found and stype in _COMMENT_TYPES and \
            source[sibling.start_byte:sibling.start_byte + 3] == b"/**" else 1
        if end_row < expected_row - gap:
            break
        if stype == "attribute_item":
            expected_row = sibling.start_point.row
        elif stype in _COMMENT_TYPES:
            before = sibling.prev_sibling
            if (before is not None and before.end_point.row == sibling.start_point.row
                    and before.end_point.column > 0):
                break  # a trailing comment of the previous statement
            found.append(node_text(source, sibling))
            expected_row = sibling.start_point.row
        else:
            break
        sibling = sibling.prev_named_sibling
    found.reverse()
    return comment_text(found) if found else ""


def _parameter_nodes(language: str, fn: Node) -> list[Node]:
    """The parameter nodes of a function-like node, wherever its grammar keeps them."""
    if language in ("c", "cpp"):
        declarator = fn.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "function_declarator":
            declarator = declarator.child_by_field_name("declarator")
        params = declarator.child_by_field_name("parameters") if declarator is not None \
            else None
        return params.named_children if params is not None else []
    if language == "swift":
        return [c for c in fn.named_children if c.type == "parameter"]
    if language == "kotlin":
        for child in fn.named_children:
            if child.type == "function_value_parameters":
                return child.named_children
        return []
    params = fn.child_by_field_name("parameters")
    return params.named_children if params is not None else []


def _after_token(fn: Node, token: str) -> Node | None:
    """Kotlin `): T` and Swift `-> T`: the type node after a token, before the body."""
    seen_params = False
    for child in fn.children:
        ctype = child.type
        if ctype in ("function_value_parameters", ")"):
            seen_params = True
        elif seen_params and ctype == token:
            following = child.next_named_sibling
            return following if following is not None and "body" not in following.type \
                else None
    return None


def _parameters(source: bytes, language: str, params: list[Node], shape: Shape) -> None:
    for p in params:
        ptype = p.type
        if ptype in _PARAM_SKIP_TYPES:
            continue
        text = _squash(node_text(source, p))
        if text in _SKIPPED_PARAMS:
            continue
        shape.inputs.append(text)
        if ptype in _TYPED_PY_PARAMS or (language in _COLON_TYPED and ":" in text):
            shape.typed = True


def _declared_result(source: bytes, language: str, fn: Node) -> list[str] | None:
    """The declared result as written; Go result lists give one item per result."""
    if language == "go":
        result = fn.child_by_field_name("result")
        if result is None:
            return None
        if result.type == "parameter_list":
            return [_squash(node_text(source, p)) for p in result.named_children
                    if p.type != "comment"]
        return [_squash(node_text(source, result))]
    if language == "kotlin":
        result = _after_token(fn, ":")
    elif language == "swift":
        result = _after_token(fn, "->")
    else:
        result = fn.child_by_field_name(_RESULT_FIELDS.get(language, "return_type"))
    if result is None:
        return None
    text = _squash(node_text(source, result))
    return [text[1:].strip() if text.startswith(":") else text]


def _fields(source: bytes, node: Node, shape: Shape) -> None:
    """Rust/Go struct fields, Python class-level annotated attributes (dataclass style)."""
    container: Node | None = node.child_by_field_name("body")
    if node.type == "type_spec":  # Go: type X struct { ... }
        spec = node.child_by_field_name("type")
        container = None
        if spec is not None:
            for child in spec.named_children:
                if child.type == "field_declaration_list":
                    container = child
    if container is None:
        return
    if node.type == "class_definition":
        for statement in container.named_children:
            assignment = statement.named_child(0) if statement.type == "expression_statement" \
                else None
            if assignment is not None and assignment.type == "assignment" \
                    and assignment.child_by_field_name("type") is not None:
                shape.inputs.append(_squash(node_text(source, assignment)))
        return
    if container.type not in _FIELD_LISTS:
        return
    for child in container.named_children:
        if child.type in _COMMENT_TYPES or child.type == "attribute_item":
            continue
        text = _squash(node_text(source, child)).split("`", 1)[0].strip()  # drop Go tags
        if text.startswith("pub"):  # `pub name: T` / `pub(crate) name: T`
            text = text.split(" ", 1)[-1] if " " in text else text
        shape.inputs.append(text)


def _type_detail(source: bytes, language: str, node: Node) -> str:
    """Heritage or aliased type, for a name-made intent of a type."""
    ntype = node.type
    text = ""
    if ntype == "class_definition":
        bases = node.child_by_field_name("superclasses")
        if bases is not None:
            names = [node_text(source, b) for b in bases.named_children
                     if b.type != "keyword_argument"]
            text = f"subclass of {', '.join(names)}" if names else ""
    elif ntype in ("class_declaration", "abstract_class_declaration", "interface_declaration"):
        for child in node.named_children:
            if child.type in ("class_heritage", "extends_type_clause"):
                text = node_text(source, child)
    elif ntype in ("type_alias_declaration", "type_item", "type_alias", "type_spec"):
        value = node.child_by_field_name("value" if ntype == "type_alias_declaration" else "type")
        if value is not None and value.type not in ("struct_type", "interface_type"):
            text = ("alias of " if ntype != "type_spec" else "") + node_text(source, value)
    text = _squash(text)
    return text if len(text) <= MAX_DETAIL else ""


def _constructor_inputs(parsed: ParsedSource, index: int, shape: Shape) -> bool:
    definitions = parsed.definitions
    end = definitions[index].symbol.end_byte
    for j in range(index + 1, len(definitions)):
        child = definitions[j]
        if child.symbol.start_byte >= end:
            break
        if child.parent == index and child.symbol.name in _CONSTRUCTORS and child.fn is not None:
            _parameters(parsed.source, parsed.language,
                        _parameter_nodes(parsed.language, child.fn), shape)
            return True
    return False


def symbol_shape(parsed: ParsedSource, index: int, docstring: Node | None = None) -> Shape:
    """`docstring`: the string literal opening a Python body (captured by the facts query)."""
    d: Definition = parsed.definitions[index]
    source, language, symbol = parsed.source, parsed.language, d.symbol
    shape = Shape(intent="", signature=symbol.signature, typed=language in _STATICALLY_TYPED,
                  has_error=d.outer.has_error, go_style=language == "go")
    full = docstring_text(node_text(source, docstring)) if docstring else ""
    doc = first_sentence(full) if full else ""
    if not doc:
        full = _leading_comments(source, d.anchor)
        doc = first_sentence(full) if full else ""
    if full:
        shape.doc_text = " ".join(full.split())[:MAX_DOC_CHARS]
    fn = d.fn
    if fn is not None:
        _parameters(source, language, _parameter_nodes(language, fn), shape)
        shape.returns_type = _declared_result(source, language, fn)
        if shape.returns_type is not None:
            shape.typed = True
        if fn.type == "arrow_function":
            body = fn.child_by_field_name("body")
            if body is not None and body.type != "statement_block":
                text = _squash(node_text(source, body))
                shape.expression_body = text if len(text) <= MAX_DETAIL else "a value"
    elif symbol.kind in ("class", "struct") and not _constructor_inputs(parsed, index, shape):
        _fields(source, d.node, shape)
    shape.documented = bool(doc)
    shape.intent = doc or intent_from_name(symbol.kind, symbol.qualified_name,
                                           _type_detail(source, language, d.node)
                                           if fn is None else "")
    return shape
