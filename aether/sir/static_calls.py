"""What a call tells the static analyser: dependency, side effect, error mode, module-state
write. Worked out once per distinct callee per file (`CallTable`), since most calls repeat."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from aether.sir.static_rules import READS_FILES, WRITES_FILES, classify
from aether.sir.static_shape import Shape, parameter_names
from aether.symbols.imports import Imports

MAX_CALLEE = 60

_PARENS = re.compile(r"\([^()]*\)")
_TURBOFISH = re.compile(r"::<[^<>]*>")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_WRITE_MODE = re.compile(r"""(?:^|[(,\s])(?:mode\s*=\s*)?[rbu]?["'][rbt]*[wax+][rwabtx+]*["']""")
_EXCEPTION_SUFFIXES = ("Error", "Exception")
_FEW_IMPORTS = 8  # up to this many imported names, substring tests beat a regex
_WHOLE_FILE_IMPORTS = frozenset({"c", "cpp", "csharp", "ruby", "swift"})
_OPEN_CALLS = frozenset({"open", "io.open", "codecs.open"})
_MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "add",
    "discard", "remove", "push", "set", "delete", "splice", "unshift", "shift",
})


def normalise_callee(text: str) -> str:
    """`foo . bar(x)(y)` -> `foo.bar`; `collect::<Vec<_>>` -> `collect`; `a->b` -> `a.b`."""
    # plain str tests first: this runs for every distinct callee and regexes cost ~1 µs
    if " " in text or "\n" in text or "\t" in text:
        text = "".join(text.split())
    if "(" in text:
        previous = None
        while previous != text:
            previous, text = text, _PARENS.sub("", text)
    if "::<" in text:
        text = _TURBOFISH.sub("", text)
    if "->" in text:  # PHP `$this->log->info`, C/C++ `conn->send`: one spelling for the rules
        text = text.replace("->", ".").replace("?.", ".")
    return text


def _head(callee: str) -> str:
    """First name segment: `os.path.join` -> `os`, `fs::read` -> `fs`."""
    head = callee.partition(".")[0]
    return head.partition(":")[0] if ":" in head else head


def _plain(callee: str) -> bool:
    """Only names, dots and `::` (no subscripts, literals or operators)."""
    return callee.replace(".", "_").replace(":", "_").replace("$", "_").isidentifier()


@dataclass(eq=False, slots=True)  # identity hash: infos are unique per file and used as keys
class CallInfo:
    callee: str  # as written, normalised
    resolved: str  # through the file's imports, in the spelling the rules use
    head: str  # first name segment, to see which imports a symbol uses ("" for none)
    dependency: bool  # worth listing as a dependency
    effect: str | None = None
    error: str | None = None
    mutated: str | None = None  # module-level name changed in place (`REGISTRY.append`)
    mode_sensitive: bool = False  # Python open(): read or write depends on the call's mode


class CallTable:
    """Per-file memo of CallInfo by normalised callee (resolution depends on the file's
    imports and module-level names, so the memo cannot be shared between files)."""

    def __init__(self, language: str, source: bytes, imports: Imports,
                 module_names: set[str]) -> None:
        self.language = language
        self.source = source
        self.imports = imports
        self.module_names = module_names
        self._by_callee: dict[str, CallInfo] = {}

    def info(self, raw: bytes) -> CallInfo:
        text = raw.decode("utf-8", errors="replace")
        if text.isidentifier():  # `len`, `print`: the common, simple case
            return self._classified(text, None, True)
        # A chained call, `Path(p).read_text()` / `Command::new("ls").arg("-l")`: its inner
        # calls are captured on their own; the chain still feeds the rules (as
        # `Path.read_text`, `.unwrap`) but says too little to be listed as a dependency.
        paren = text.find("(")
        if paren < 0:
            return self._classified(normalise_callee(text), None, True)
        # ... and an effect the chain's first call already has is not counted twice
        # (`Command::new(..).arg(..)` is one process spawn, not three).
        base = self._classified(normalise_callee(text[:paren]), None, True)
        return self._classified(normalise_callee(text), None, False, base.effect)

    def macro(self, name: str) -> CallInfo:
        return self._classified(name, "", False)

    def _classified(self, callee: str, head: str | None, may_depend: bool,
                    known_effect: str | None = None) -> CallInfo:
        # chains and macros get their own entries: `a.b(x).c` normalises to the same text as
        # a call of `a.b.c` but must not decide whether that one is a dependency
        key = callee if may_depend else f"{callee}\x00{known_effect}"
        found = self._by_callee.get(key)
        if found is not None:
            return found
        language = self.language
        imported = None
        if head is None:
            head = _head(callee)
            imported = self.imports.names.get(head)
        resolved = imported.target + callee[len(head):] if imported is not None else callee
        effect, error, noise = classify(language, resolved)
        if effect is not None and effect == known_effect:
            effect = None
        # imported names and recognised effects are never noise (`httpx.get` is not dict.get)
        dependency = (may_depend and len(callee) <= MAX_CALLEE
                      and (imported is not None or effect is not None
                           or not (noise or callee.endswith(_EXCEPTION_SUFFIXES)))
                      and _plain(callee))
        info = CallInfo(callee, resolved, head, dependency, effect, error)
        if language == "python" and (resolved in _OPEN_CALLS or resolved.endswith(".open")):
            info.mode_sensitive = True
        if error == "panics" and resolved.endswith("!"):
            info.error = f"panics ({resolved})"
        if effect is None and self.module_names and "." in resolved:
            owner, _, method = resolved.rpartition(".")
            if owner in self.module_names and method in _MUTATING_METHODS:
                info.mutated = owner
        self._by_callee[key] = info
        return info

    def open_effect(self, callee_node: Node) -> str:
        """`open(p)` reads, `open(p, "w")` writes."""
        call = callee_node.parent
        arguments = call.child_by_field_name("arguments") if call is not None else None
        if arguments is None:
            return READS_FILES
        text = self.source[arguments.start_byte:arguments.end_byte].decode(
            "utf-8", errors="replace")
        return WRITES_FILES if _WRITE_MODE.search(text) else READS_FILES

    def imports_used(self, heads: set[str], shape: Shape) -> list[str]:
        """Modules a symbol uses: names it calls through, and names in its signature that are
        imported (a parameter that happens to share an imported name does not count)."""
        names = self.imports.names
        if not names:
            # C/C++ includes, C# usings, Ruby requires, Swift imports bind no names: what a
            # call reaches cannot be told apart, so a symbol that calls anything depends on them
            if heads and self.language in _WHOLE_FILE_IMPORTS:
                return list(self.imports.modules)
            return []
        used = {h for h in heads if h in names}
        signature = shape.signature
        if len(names) > _FEW_IMPORTS:
            # many imports: the signature's words looked up in them (a substring test per
            # imported name, for every symbol of the file, cost more); the same names
            hits = [w for w in set(_WORD.findall(signature)) if w in names and w not in used]
            if hits:
                params = parameter_names(shape)
                used.update(w for w in hits if w not in params)
            return list(dict.fromkeys(names[h].module for h in sorted(used)))
        # a substring test first: a regex over every signature costs more than it finds
        candidates = [n for n in names if n in signature and n not in used]
        if candidates:
            words = set(_WORD.findall(signature)) - parameter_names(shape)
            used.update(n for n in candidates if n in words)
        return list(dict.fromkeys(names[h].module for h in sorted(used)))
