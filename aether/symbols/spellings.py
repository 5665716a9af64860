"""How developers write a symbol's name when they ask for it, against how it is stored.

Stored qualified names are the enclosing types and the name (`Command.Execute`,
`Value.as_str`), separated as each language does. People (and agents copying from docs,
stack traces and reviews) also write:

- Go's method expression `(*Command).Execute` or `(Command).Execute`;
- Rust's qualified path `<Value as Deserialize>::deserialize`, and generic arguments
  anywhere in a path (`Map<String, Value>::insert`, `Vec::<u8>::new`);
- a call or a signature: `Command.Execute()`, Swift's `Camera.zoom(to:animated:)`;
- JavaScript's `Layer.prototype.match` for the method stored as `Layer.match`;
- the module, package or crate in front: `cobra.Command.Execute`, `serde_json::from_str`,
  `requests.sessions.Session.send`, `crate::de::from_str`.

`canonical_spelling` rewrites the first three to the stored shape; `module_prefixes` lists
the ways the fourth can be read, for a lookup that found nothing under the whole name.
Pure functions: the engine calls them before it asks the store.
"""

from __future__ import annotations

import re

# `(*Command).Execute`, `(Command).Execute`, `(*cobra.Command).Execute`, `(*List[T]).Push`
_GO_RECEIVER = re.compile(r"^\(\s*\*?\s*([\w.]+)(?:\[[^\]]*\])?\s*\)\s*\.")
# JavaScript's `Layer.prototype.match` (how MDN and stack traces write a method): `Layer.match`
_PROTOTYPE = re.compile(r"\.prototype(?=\.)")
# a trailing argument list or signature: `f()`, `f(int, str)`, Swift's `f(to:animated:)`
_CALL_TAIL = re.compile(r"\s*\([^()]*\)\s*$")
# generic arguments right after a name: `Map<K, V>::insert`, `Vec::<u8>::new`, `List<T>.add`
_GENERIC = re.compile(r"(?<=[\w>])(?:::)?<[^<>()]*>")


def canonical_spelling(target: str) -> str:
    """`target` with Go receivers, Rust `<T as Trait>::`, generic arguments and a trailing
    argument list rewritten to the stored shape; anything else unchanged."""
    text = target.strip()
    if "operator" in text:
        return text  # C++ `operator<`, `operator()`: the brackets are the name
    text = _PROTOTYPE.sub("", _GO_RECEIVER.sub(r"\1.", text))
    if text.startswith("<"):
        text = _rust_qualified_self(text)
    # nested generics (`Map<String, Vec<u8>>`) come off from the inside out
    for _ in range(4):
        stripped = _GENERIC.sub("", text)
        if stripped == text:
            break
        text = stripped
    return _CALL_TAIL.sub("", text) or target.strip()


_BRACKETED = re.compile(r"<[^<>]*>|\([^()]*\)|\[[^\[\]]*\]")


def name_query(text: str) -> str:
    """A search query that is one name as a developer writes it (`(*Command).Execute`,
    `Command.Execute()`, `<Value as Deserialize>::deserialize`) in the stored shape; any
    other query (words with spaces outside brackets: a question) as it is."""
    outside = text.strip()
    for _ in range(4):  # nested brackets, from the inside out
        outside = _BRACKETED.sub("", outside)
    if not outside or any(ch.isspace() for ch in outside):
        return text
    return canonical_spelling(text)


def _rust_qualified_self(text: str) -> str:
    """`<Value as Deserialize>::deserialize` -> `Value::deserialize`; `<Value>::f` too."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "<") - (ch == ">")
        if depth == 0:
            inner, rest = text[1:i], text[i + 1:]
            break
    else:
        return text  # unbalanced: leave it for the lookup to report
    own, _, _trait = inner.partition(" as ")
    return own.strip() + rest


def module_like(segment: str) -> bool:
    """A segment that names a module, package or crate (`cobra`, `serde_json`, `crate`),
    never a type: lower case first, as every language that puts modules in paths writes
    them."""
    return bool(segment) and (segment[0].islower() or segment[0] == "_")


def module_prefixes(dotted_name: str) -> list[tuple[list[str], str]]:
    """(dropped module segments, the name left), dropping one more leading segment each
    time while each dropped one is `module_like`: `cobra.Command.Execute` ->
    [(["cobra"], "Command.Execute"), (["cobra", "Command"] ...)] stops at `Command`."""
    parts = dotted_name.split(".")
    out: list[tuple[list[str], str]] = []
    for k in range(1, len(parts)):
        if not module_like(parts[k - 1]):
            break
        out.append((parts[:k], ".".join(parts[k:])))
    return out


def path_mentions(file_path: str, segments: list[str]) -> bool:
    """Does the file's path name one of the dropped module segments (`de` in
    `src/de.rs`, `sessions` in `requests/sessions.py`)?"""
    names = set()
    for part in file_path.split("/"):
        names.add(part.partition(".")[0])
    return any(s in names for s in segments if s not in ("crate", "self", "super"))
