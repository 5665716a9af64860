"""Intent text for the static analyser: doc comments and docstrings cleaned to their first
sentence, or a sentence made from the symbol's name when there is no documentation."""

from __future__ import annotations

import re

from aether.symbols.names import identifier_words

MAX_SENTENCE = 300

_STRING_PREFIX = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')")
_JSDOC_TAG = re.compile(r"(?:^|\s)@[A-Za-z]+\b")
_JSDOC_LINK = re.compile(r"\{@(?:link|linkcode|linkplain)\s+([^}|\s]+)[^}]*\}")
_INLINE_CODE = re.compile(r"\{@(?:code|literal)\s+([^}]*)\}")  # Javadoc, KDoc: {@code X}
_TAG_LINE = re.compile(r"@[A-Za-z]+\b")  # YARD/Doxygen `# @param x`, `/// @return`
# C# XML doc: the description is in <summary>; these tags start the parameter/return sections
_XML_SECTION = re.compile(r"<(?:param|typeparam|returns|exception|remarks|example|value)\b")
_XML_TAG = re.compile(r"</?(?:summary|para|c|code|see|seealso|paramref|typeparamref|inheritdoc)"
                      r"\b[^>]*>")
_DOXYGEN_BRIEF = re.compile(r"^[@\\](?:brief|short|details)\s+")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9(\"'`]|\s*$)")
# Tool directives and notes that are not documentation.
_DIRECTIVE = re.compile(
    r"^(?:go:|eslint|noqa|type:|pylint:|fmt:|prettier-ignore|@ts-|istanbul|nolint|"
    r"TODO|FIXME|XXX|HACK|#region|#endregion|region\b|endregion\b|!/usr|-\*-|SPDX-)",
    re.IGNORECASE,
)


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph, whitespace-collapsed."""
    paragraph: list[str] = []
    for line in text.strip().splitlines():
        stripped = line.strip()
        if not stripped:
            if paragraph:
                break
            continue
        if paragraph and (stripped.startswith(":") or (stripped.endswith(":")
                          and stripped[:-1].isalpha())):
            break  # reST fields (":param x:") or a section header ("Args:")
        paragraph.append(stripped)
    joined = " ".join(paragraph)
    match = _SENTENCE_END.search(joined)
    sentence = joined[:match.end()] if match else joined
    if len(sentence) > MAX_SENTENCE:
        sentence = sentence[:MAX_SENTENCE - 1].rstrip() + "…"
    return sentence


def docstring_text(literal: str) -> str:
    """A Python string literal (with prefix and quotes) -> its text."""
    match = _STRING_PREFIX.match(literal)
    if not match:
        return literal
    quote = match.group(1)
    body = literal[match.end():]
    return body[: -len(quote)] if body.endswith(quote) else body


def comment_text(comments: list[str]) -> str:
    """Raw comment tokens (`///`, `//`, `#`, `/** */`) -> plain text without markers, JSDoc
    tags or tool directives."""
    lines: list[str] = []
    for raw in comments:
        jsdoc = raw.startswith("/**")
        if raw.startswith("/*"):
            body = raw[3 if jsdoc else 2:]
            body = body[:-2] if body.endswith("*/") else body
            chunk = [ln.strip().lstrip("*").strip() for ln in body.splitlines()]
        else:
            chunk = [ln.strip().lstrip("/!#").strip() for ln in raw.splitlines()]
        for line in chunk:
            if "<" in line:
                section = _XML_SECTION.search(line)
                if section is not None:
                    line = line[:section.start()]
                    if line.strip():
                        lines.append(_XML_TAG.sub("", line).strip())
                    lines.append("")
                    break
                line = _XML_TAG.sub("", line).strip()
            if line[:1] in "@\\":
                line = _DOXYGEN_BRIEF.sub("", line)
            if jsdoc:
                if "{@" in line:
                    line = _INLINE_CODE.sub(r"\1", _JSDOC_LINK.sub(r"\1", line))
                tag = _JSDOC_TAG.search(line)
                if tag is not None:  # @param, @returns, ...: the description is over
                    line = line[:tag.start()].strip()
                    if line:
                        lines.append(line)
                    lines.append("")
                    break
            elif line[:1] == "@" and _TAG_LINE.match(line):
                lines.append("")  # a tag line is not the description (`# @todo ...`)
                continue
            if _DIRECTIVE.match(line):
                continue
            if line and not any(ch.isalnum() for ch in line):
                line = ""  # a rule of dashes or equals signs
            lines.append(line)
    return "\n".join(lines).strip()


# Intent for well-known method names, where the words alone say little.
_SPECIAL_NAMES = {
    "__init__": "Initialise a new {owner}",
    "constructor": "Construct a new {owner}",
    "initialize": "Initialise a new {owner}",
    "__construct": "Construct a new {owner}",
    "init": "Initialise a new {owner}",
    "new": "Create a new {owner}",
    "__new__": "Create a new {owner} instance",
    "__repr__": "Return the debugging representation of {owner}",
    "__str__": "Return the string form of {owner}",
    "String": "Return the string form of {owner}",
    "toString": "Return the string form of {owner}",
    "fmt": "Format {owner} for display",
    "__eq__": "Compare {owner} for equality",
    "__hash__": "Hash {owner}",
    "__len__": "Return the size of {owner}",
    "__iter__": "Iterate over {owner}",
    "__next__": "Return the next item of {owner}",
    "__enter__": "Enter the {owner} context",
    "__exit__": "Exit the {owner} context",
    "__aenter__": "Enter the {owner} async context",
    "__aexit__": "Exit the {owner} async context",
    "__call__": "Call {owner} like a function",
    "__getitem__": "Get an item of {owner}",
    "__setitem__": "Set an item of {owner}",
    "__contains__": "Check membership in {owner}",
    "__del__": "Finalise {owner}",
    "drop": "Release {owner} when it goes out of scope",
    "default": "Return the default {owner}",
    "clone": "Copy {owner}",
    "main": "Program entry point",
}
_PREDICATES = {"is": "it is", "has": "it has", "can": "it can", "should": "it should"}
_KIND_WORDS = {"class": "class", "struct": "struct", "enum": "enum", "trait": "trait",
               "interface": "interface", "type_alias": "type alias",
               "module": "module", "object": "object"}


def _words(name: str) -> list[str]:
    if name.islower() or (name.isupper() and "_" in name):  # snake_case: no regex needed
        return [w for w in name.lower().split("_") if w]
    return identifier_words(name)


def _sentence_from_words(words: list[str]) -> str:
    if not words:
        return ""
    head, rest = words[0], words[1:]
    if head in _PREDICATES and rest:
        words = ["check", "whether", *_PREDICATES[head].split(), *rest]
    elif head == "to" and rest:
        words = ["convert", "to", *rest]
    elif head == "on" and rest:
        words = ["handle", *rest]
    text = " ".join(words)
    return text[0].upper() + text[1:]


_OWNER_SEPARATOR = re.compile(r"(?:\.|::|#|\\)(?=[^.:#\\]*$)")


def _split_owner(qualified_name: str) -> tuple[str, str]:
    """`a.B.c` / `ns::C::m` / `Mod::C#m` / `Ns\\C::m` -> (owner, last name)."""
    match = _OWNER_SEPARATOR.search(qualified_name)
    if match is None:
        return "", qualified_name
    return qualified_name[:match.start()], qualified_name[match.end():]


def intent_from_name(kind: str, qualified_name: str, detail: str = "") -> str:
    """`parse_config_file` -> "Parse config file."; kinds other than functions get a phrase
    naming what they define. `detail` is a short heritage/value note for types."""
    owner, name = _split_owner(qualified_name)
    if kind in _KIND_WORDS:
        text = f"Defines {_KIND_WORDS[kind]} {name}"
        return f"{text} ({detail})." if detail else f"{text}."
    owner_name = _split_owner(owner)[1]
    if kind == "method" and owner_name and name in (owner_name, f"~{owner_name}"):
        verb = "Construct" if name == owner_name else "Destroy"  # Java/C#/C++ constructors
        return f"{verb} {'a new ' if verb == 'Construct' else 'a '}{owner_name}."
    special = _SPECIAL_NAMES.get(name)
    if special is not None and (owner or name == "main"):
        return special.format(owner=_split_owner(owner)[1]) + "."
    if name.startswith("__") and name.endswith("__") and owner:
        return f"Implement the {name} protocol for {_split_owner(owner)[1]}."
    sentence = _sentence_from_words(_words(name)) or name
    if kind == "method" and owner:
        return f"{sentence} (method of {_split_owner(owner)[1]})."
    return f"{sentence}."
