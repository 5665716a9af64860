"""Call sites -> targets, each with how sure we are (its provenance). Never a guess.

- `local`: the same file's scope (a nested or module-level function, recursion), the
  caller's own class through `self`/`this`/`cls`, or a class of the file (`Foo.bar()`);
  in Go, the same package (folder).
- `import`: through the file's import bindings (aliases, `from m import *`, re-exports one
  or two files deep) to an indexed symbol.
- `unique_name`: the only indexed symbol that can be meant by that name. Only where the
  code gives no better clue: a method called on a receiver of unknown type, a method
  inherited through `self`, a name in a language whose imports AETHER does not read.
- `ambiguous`: several symbols can be meant; all are listed (capped), none is chosen.
- `external`: resolves outside the workspace (an imported library, a builtin), kept as text.
- `unresolved`: none of the above (a method of a dict, a name bound at run time, ...).

Python bare names never fall back to a name match: a bare name that is neither defined,
imported nor builtin is not reachable at all, so a same-name symbol elsewhere is a guess.

Types (Python, JS/TS) come from the files' type facts (aether.symbols.type_facts), followed
by aether.engine.graph_types: a receiver typed by a call's result takes the type the called
function returns, a module-level variable its stated type, and a method missing from a class
is looked up in its bases. A namesake whose class inherits from a library class is not "the
only one": the library's method may be meant.
"""

from __future__ import annotations

import builtins
import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from aether.engine.graph_types import (
    TYPES,
    TypeFollowing,
    binding,
    made_by_call,
    provenance,
)
from aether.store.graph_records import (
    CLASS_OF,
    EdgeSite,
    GraphView,
    Resolution,
    SymbolRef,
    read_bindings,
)
from aether.symbols.local_types import RESULT

MAX_CANDIDATES = 20
MAX_HOPS = 3  # re-export chains followed through bindings
_PY_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("__"))
_CONTAINERS = frozenset({"class", "struct", "enum", "trait", "interface", "module", "object"})
_CALLABLE_TOP = frozenset({"function", "class", "struct", "enum", "type_alias"})
_REFERABLE_TOP = _CALLABLE_TOP | {"trait", "interface", "object", "constant"}
# languages where a bare call inside a class reaches the class's own methods
IMPLICIT_THIS = frozenset({"java", "csharp", "kotlin", "swift", "ruby", "cpp"})
# first segments of Rust paths that never name the workspace's crate by its name
_RUST_ROOTS = frozenset({"std", "core", "alloc", "crate", "self", "super", "Self",
                         # primitive types: `u32::from_str`, `str::from_utf8`
                         "bool", "char", "str", "f32", "f64", "usize", "isize",
                         *(f"{s}{n}" for s in "iu" for n in (8, 16, 32, 64, 128))})
_RUST_LIB = "src/lib.rs"
# the standard library's top-level packages: an import path starting with one is Go's own
_GO_STD = frozenset({
    "archive", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context",
    "crypto", "database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go",
    "hash", "html", "image", "index", "io", "iter", "log", "maps", "math", "mime", "net", "os",
    "path", "plugin", "reflect", "regexp", "runtime", "slices", "sort", "strconv", "strings",
    "sync", "syscall", "testing", "text", "time", "unicode", "unique", "unsafe"})
_GO_MAJOR = re.compile(r"v\d+")  # `github.com/x/y/v2`: major version 2 of module y
_FAMILY = {"typescript": "ecma", "tsx": "ecma", "javascript": "ecma"}
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _builtin_methods() -> frozenset[str]:
    names: set[str] = set()
    for t in (dict, list, str, set, bytes, tuple, int, float, object, frozenset, bytearray):
        names.update(n for n in dir(t) if not n.startswith("_"))
    return frozenset(names)


# Go's standard types' methods called all the time. Go's builtin types (slices, maps,
# strings) have no methods, and a lower-case method is callable only inside its own
# package, so for Go this list alone stands: `cmd.execute()` or `s.run()` in a Go file is
# never Python's `cursor.execute` or a list's `count`.
_GO_COMMON = frozenset({
    "Close", "Error", "String", "Lock", "Unlock", "Read", "Write", "Len", "Add", "Done",
    "Wait", "Get", "Set", "Printf", "Println", "Sprintf", "Errorf"})

# Methods of builtin containers and of the standard types of other languages: a call of one
# of these on a receiver of unknown type is far more often the builtin than a namesake of
# ours, so it is never matched by name alone.
COMMON_METHODS = _builtin_methods() | frozenset({
    # JS/TS
    "push", "map", "filter", "forEach", "reduce", "then", "catch", "finally", "toString",
    "slice", "splice", "indexOf", "includes", "concat", "some", "every", "find", "has",
    "set", "delete", "log", "warn", "error", "info", "debug", "emit", "on", "off", "bind",
    "call", "apply", "trim", "toLowerCase", "toUpperCase", "match", "test", "exec", "json",
    "send", "write", "end", "resolve", "reject", "next", "close", "open", "read",
    # Rust
    "iter", "iter_mut", "into_iter", "collect", "unwrap", "unwrap_or", "unwrap_or_else",
    "expect", "clone", "into", "to_string", "to_owned", "as_ref", "as_mut", "len", "is_empty",
    "ok", "err", "map_err", "and_then", "push_str", "insert", "contains", "is_some",
    "is_none", "as_str", "borrow", "borrow_mut", "lock", "unwrap_or_default", "new",
    "default", "fmt", "from", "parse", "flush",
    # Go
    *_GO_COMMON,
    # Python stdlib objects people call all the time
    "warning", "exception", "critical", "get", "run", "sleep", "group",
    "groups", "search", "sub", "fullmatch", "findall", "finditer", "acquire", "release",
    "put", "get_nowait", "put_nowait", "cancel", "result", "done", "submit", "shutdown",
    "start", "stop", "join", "is_alive", "seek", "tell", "readline", "readlines",
    "writelines", "fileno", "exists", "is_file", "is_dir", "mkdir", "unlink", "glob",
    "relative_to", "with_suffix", "read_text", "write_text", "read_bytes",
    "write_bytes", "iterdir", "stat", "isoformat", "strftime", "total_seconds", "timestamp",
    "hexdigest", "digest", "encode", "decode", "dumps", "loads", "dump", "load", "recv",
    "connect", "execute", "executemany", "fetchone", "fetchall", "commit", "rollback",
    "cursor",
})


def common_method(name: str, language: str) -> bool:
    """A method name never matched by name alone on a receiver of unknown type."""
    return name in (_GO_COMMON if language == "go" else COMMON_METHODS)


def family(language: str) -> str:
    return _FAMILY.get(language, language)


@dataclass(slots=True)
class _Modules:
    """Dotted module names of the workspace's files, for resolving imports to files.

    Kept as two parallel sorted lists (each module's name reversed, with a trailing dot, and
    its file), not a dict of every suffix of every name: a module `S` names the files whose
    name is `S` or ends with `.S`, which reversed is one run of the sorted list found by
    bisection. ~5,000 objects where the dicts made 53,000 at 100,000 symbols, held between
    saves and, freed at idle, scattered over the interpreter's small-object arenas."""

    keys: list[str]  # reversed dotted name + ".", sorted
    paths: list[str]  # the file of each key (files of one key in the order given)
    heads: set[str]  # first segments of the workspace's packages (`pkg` of pkg.mod)
    packages: set[str]  # folders with an __init__.py
    memo: dict[str, list[str]] = field(default_factory=dict)  # dotted -> files()

    @classmethod
    def build(cls, paths: list[str]) -> _Modules:
        named: list[tuple[str, int]] = []
        heads: set[str] = set()
        for i, path in enumerate(paths):
            dotted = module_name(path)
            if dotted is None:
                continue
            named.append((dotted[::-1] + ".", i))
            head, _, rest = dotted.partition(".")
            heads.add(rest.partition(".")[0] if head in ("src", "lib") and rest else head)
        named.sort()
        packages = {_folder(p) for p in paths if p.rpartition("/")[2] == "__init__.py"}
        return cls([k for k, _ in named], [paths[i] for _, i in named], heads, packages)

    def files(self, dotted: str) -> list[str]:
        found = self.memo.get(dotted)
        if found is None:
            found = self.memo[dotted] = self._files(dotted)
        return found

    def _files(self, dotted: str) -> list[str]:
        key = dotted[::-1] + "."
        lo = bisect_left(self.keys, key)
        # keys that start with `key`: the module itself, then every `x.<dotted>`
        hi = bisect_left(self.keys, key[:-1] + "/", lo)  # "/" sorts right after "."
        exact = bisect_right(self.keys, key, lo, hi)
        if exact > lo:
            return self.paths[lo:exact]
        # `flask.json` is `src/flask/json/`: a suffix, but only below a folder that is not a
        # package itself (`json` is not `src/flask/json/`: flask is a package, so that module
        # is `flask.json`, and a bare `import json` is the standard library's)
        found = [(self.keys[i], self.paths[i]) for i in range(exact, hi)
                 if _prefix_folder(self.paths[i], dotted) not in self.packages]
        return [p for _, p in found] if len({k for k, _ in found}) == 1 else []


_last_modules: list[tuple[list[str], _Modules]] = []


def _modules(paths: list[str]) -> _Modules:
    """The workspace's modules, built again only when its files changed: a save resolves
    its file's edges against the same ~2,000 paths as the save before it (building them
    cost a save 90 ms). One entry: the last set of files seen."""
    if _last_modules and _last_modules[0][0] == paths:
        return _last_modules[0][1]
    built = _Modules.build(paths)
    _last_modules[:] = [(paths, built)]
    return built


def clear_modules() -> None:
    """Forget the workspace's modules (an idle daemon: the next save builds them again)."""
    _last_modules.clear()


def _prefix_folder(path: str, dotted: str) -> str:
    """The folder above the part of `path` that `dotted` names (`src/flask` for
    `src/flask/json/__init__.py` named `json`)."""
    full = module_name(path) or ""
    depth = len(full.split(".")) - len(dotted.split("."))
    parts = path.split("/")[:-1]
    # module_name drops `__init__`/`mod`/`index`: count folders, not segments, from the top
    return "/".join(parts[:depth]) if depth > 0 else "."


def _folder(path: str) -> str:
    """`str(PurePosixPath(path).parent)` of a workspace-relative path."""
    return path.rpartition("/")[0] or "."


def module_name(path: str) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, `pkg/__init__.py` -> `pkg`, `src/a/mod.rs` ->
    `src.a`, `lib/u.ts` -> `lib.u`; None for files no import can name."""
    # PurePosixPath's suffix, stem and parent, by plain string splitting (a workspace path
    # is relative and normal): this runs for every file at every resolution
    *parts, name = path.split("/")
    dot = name.rfind(".")
    suffix, stem = (name[dot:], name[:dot]) if 0 < dot < len(name) - 1 else ("", name)
    if suffix == ".py":
        if stem != "__init__":
            parts.append(stem)
    elif suffix == ".rs":
        if stem not in ("mod", "lib", "main"):
            parts.append(stem)
    elif suffix in _JS_EXTS:
        if stem != "index":
            parts.append(stem)
    else:
        return None
    dotted = ".".join(parts)
    return dotted if all(part.isidentifier() for part in parts) else dotted.replace("-", "_")


class GraphResolver(TypeFollowing):
    """Resolves a batch of call sites against one `GraphView` (built per batch)."""

    def __init__(self, view: GraphView) -> None:
        self.view = view
        self.modules = _modules(list(view.files))
        # What depends on the view alone is kept with it (`view.derived`, which holds
        # nothing that refers back to the view): the slices of a cold pass's final resolve
        # share it instead of building it again per slice.
        derived = view.derived
        if not derived:
            derived.update(dotted={}, names={}, by_file=_by_file(view))
        # Answers per site are keyed by the site's file first, and a batch holds its files
        # whole (a cold pass's slices never split one), so no later batch can reuse one:
        # this batch's own. Kept with the view, they were a cold pass's largest object at
        # its peak (320,000 answers, ~50 MB at 100,000 symbols).
        self._memo: dict[tuple[str, ...], Resolution] = {}
        # a cold pass asks the same questions thousands of times: a module path from a
        # folder, the namesakes of a name
        self._dotted_memo: dict[tuple[str, str, str, int], SymbolRef | str | None] = (
            derived["dotted"])
        self._name_memo: dict[tuple[str, str, bool, str], Resolution] = derived["names"]
        self._by_file: dict[tuple[str, str, str], SymbolRef] = derived["by_file"]
        self._nested = 0  # method_of calls on the stack
        self._external_memo: dict[str, bool] = derived.setdefault("external", {})

    # ------------------------------------------------------------------ lookups

    def in_file(self, path: str, name: str, qualified: str) -> SymbolRef | None:
        return self._by_file.get((name, qualified, path))

    def _rust_own_crate(self, path: str, target: str) -> Resolution | None:
        """`serde_json::from_str` (target `serde_json.from_str`) in a file of a crate that is
        outside its `src/` (tests/, benches/, examples/, build.rs): such files reach the
        crate's library only by the crate's name, which lives in Cargo.toml, not in the
        code. So a path whose first segment is no workspace module is looked up in the
        crate's `src/lib.rs` (its items and re-exports): found, it answers `unique_name`
        (a dependency could have the same item); None otherwise (external, as before)."""
        head, _, rest = target.partition(".")
        if not rest or head in _RUST_ROOTS or not head[:1].islower() \
                or path.rpartition("/")[2] == "build.rs":  # a build script links no lib
            return None
        lib = self._rust_lib_of(path)
        if lib is None:
            return None
        imported, dependencies = self._rust_crates(lib)
        if head not in imported or head in dependencies:
            return None  # a variable (`de.end()`), or a crate the library itself uses
        found = self._member([lib], rest, 0)
        if not isinstance(found, SymbolRef):
            found = self.dotted(lib, "rust", f"crate.{rest}")
        return Resolution("unique_name", found.id) if isinstance(found, SymbolRef) else None

    def _rust_crates(self, lib: str) -> tuple[set[str], set[str]]:
        """(crates the files around the library import from: `use serde_json::Value` in
        tests/ -> `serde_json`; crates the library's own files import: `use serde::de` in
        src/ -> `serde`). The crate itself is among the first and never among the second
        (its own files say `crate::`); a name a file only calls through (`de.end()`) may be
        a variable and is in neither."""
        key = "rust_crates:" + lib
        found: tuple[set[str], set[str]] | None = self.view.derived.get(key)
        if found is None:
            crate, src = lib[:-len(_RUST_LIB)], lib[:-len("lib.rs")]
            outside: set[str] = set()
            inside: set[str] = set()
            for p, info in self.view.files.items():
                if info.language != "rust" or not p.startswith(crate):
                    continue
                # read from the stored JSON, not through `info.bindings`: that would keep
                # every file's parsed bindings for the rest of the view's life
                bound = read_bindings(info.stored_bindings) if info.stored_bindings else {}
                stars = json.loads(info.stored_stars) if info.stored_stars else []
                heads = {t.replace("::", ".").partition(".")[0]
                         for t in [*bound.values(), *stars]}
                (inside if p.startswith(src) else outside).update(heads)
            found = self.view.derived[key] = (outside, inside)
        return found

    def _rust_lib_of(self, path: str) -> str | None:
        """The `src/lib.rs` of the innermost crate holding `path`, when `path` is outside
        that crate's `src/`."""
        libs: list[str] | None = self.view.derived.get("rust_libs")
        if libs is None:
            libs = self.view.derived["rust_libs"] = sorted(
                (p for p in self.view.files if p == _RUST_LIB or p.endswith("/" + _RUST_LIB)),
                key=len, reverse=True)
        for lib in libs:
            crate = lib[:-len(_RUST_LIB)]  # "" or "crates/a/"
            if path.startswith(crate):
                return None if path.startswith(crate + "src/") else lib
        return None

    def _go_import(self, import_path: str, name: str) -> Resolution | None:
        """`srv.Start()` with `srv` imported as `example.com/app/srv`: `Start` of the Go
        files of the workspace folder the import path ends with (`srv`, `app/srv`; a
        trailing `/v2` may be the module's major version). A path no folder ends with but
        that is no standard package (its first segment has a dot) may be the module's root
        package: a top-level `name` of the root folder's Go files answers `unique_name`.
        None: not the workspace's (external, as any other import)."""
        segments = import_path.split("/")
        if segments[0] in _GO_STD:
            return None  # `errors`, `net/http`: never the workspace's `errors/` or `http/`
        folders = self._go_folders()
        tries = [segments]
        if len(segments) > 1 and _GO_MAJOR.fullmatch(segments[-1]):
            tries.append(segments[:-1])
        for parts in tries:
            for k in range(len(parts)):
                folder = "/".join(parts[k:])
                if folder in folders:
                    refs = self._in_folder(folder, "go", name, name)
                    return self._choose(refs, "import") if refs else Resolution("unresolved")
        if "." in segments[0] and "." in folders:
            refs = self._in_folder(".", "go", name, name)
            if refs:
                return self._choose(refs, "unique_name")
        return None

    def _go_folders(self) -> set[str]:
        """Folders holding Go files (the workspace root is `.`)."""
        found = self.view.derived.get("go_folders")
        if found is None:
            found = self.view.derived["go_folders"] = {
                _folder(p) for p, info in self.view.files.items() if info.language == "go"}
        return found

    def _in_folder(self, folder: str, language: str, name: str, qualified: str
                   ) -> list[SymbolRef]:
        return [r for r in self.view.by_name.get(name, ())
                if r.qualified_name == qualified and r.language == language
                and _folder(r.file_path) == folder]

    def _member(self, paths: list[str], member: str, hops: int) -> SymbolRef | str | None:
        """`member` (a qualified name) defined in one of `paths`, or re-exported by it
        through its own imports; "" when the module is known but has no such member."""
        name = member.rsplit(".", 1)[-1]
        for path in paths:
            ref = self.in_file(path, name, member)
            if ref is not None:
                return ref
        head, _, rest = member.partition(".")
        if rest and "." not in rest and hops < MAX_HOPS:
            # a method of a module-level variable of a known type (`globals.request_ctx`)
            for path in paths:
                info = self.view.files.get(path)
                typed = None if info is None else info.fact(head + CLASS_OF)
                if info is None or typed is None:
                    continue
                cls = self.type_ref(path, info.language, typed)
                ref = None if cls is None else self.method_of(cls, rest)
                if ref is not None:
                    return ref
        if hops < MAX_HOPS:
            for path in paths:
                info = self.view.files.get(path)
                if info is None:
                    continue
                target = info.bindings.get(head)
                if target is not None:
                    found = self.dotted(path, info.language,
                                        target + ("." + rest if rest else ""), hops + 1)
                    if isinstance(found, SymbolRef):
                        return found
                for star in info.star_imports:
                    found = self.dotted(path, info.language, f"{star}.{member}", hops + 1)
                    if isinstance(found, SymbolRef):
                        return found
        return ""

    def dotted(self, from_path: str, language: str, target: str, hops: int = 0
                ) -> SymbolRef | str | None:
        # only the importing file's folder matters (relative imports are anchored there)
        key = (from_path.rpartition("/")[0], language, target, hops)
        found = self._dotted_memo.get(key, ...)
        if found is ...:
            found = self._dotted_memo[key] = self._dotted_uncached(from_path, language,
                                                                   target, hops)
        return found

    def _dotted_uncached(self, from_path: str, language: str, target: str, hops: int
                         ) -> SymbolRef | str | None:
        """A dotted target (`pkg.mod.Class.method`, `./util.helper`, `crate::m::f`) ->
        the symbol; "" when its module is in the workspace but the symbol is not found;
        None when no module of the workspace matches (external)."""
        anchored = _anchored(from_path, language, target)
        if anchored is None:
            return None
        target = anchored
        parts = target.split(".")
        for k in range(len(parts) - 1, 0, -1):
            paths = self.modules.files(".".join(parts[:k]))
            paths = [p for p in paths if family(self.view.files[p].language) == family(language)]
            if paths:
                return self._member(paths, ".".join(parts[k:]), hops)
        if len(parts) >= 1 and self.modules.files(target):
            return ""  # the module itself (a default import called, a module object)
        return None

    def _by_name(self, site: EdgeSite, methods: bool) -> Resolution:
        key = (site.name, site.language, methods, site.kind)
        found = self._name_memo.get(key)
        if found is None:
            found = self._name_memo[key] = self._by_name_uncached(site, methods)
        return found

    def _by_name_uncached(self, site: EdgeSite, methods: bool) -> Resolution:
        fam = family(site.language)
        refs = [r for r in self.view.by_name.get(site.name, ()) if family(r.language) == fam]
        if methods:
            refs = [r for r in refs if r.qualified_name != r.name]
        else:
            kinds = _CALLABLE_TOP if site.kind == "call" else _REFERABLE_TOP
            refs = [r for r in refs if r.qualified_name == r.name and r.kind in kinds]
        if methods and len(refs) == 1:
            owner = self.class_of(refs[0])
            if owner is not None and self.external_ancestry(owner):
                # the one namesake overrides (or adds to) a library class: the library's
                # own method of that name is as likely meant, so it is not the only one
                return Resolution("ambiguous", None, json.dumps(
                    {"count": 2, "candidates": [refs[0].id]}))
        return self._choose(refs, "unique_name")

    @staticmethod
    def _choose(refs: list[SymbolRef], provenance: str) -> Resolution:
        if not refs:
            return Resolution("unresolved")
        if len(refs) == 1:
            return Resolution(provenance, refs[0].id)
        ids = sorted(r.id for r in refs)
        return Resolution("ambiguous", None, json.dumps(
            {"count": len(ids), "candidates": ids[:MAX_CANDIDATES]}))

    def _enclosing_class(self, site: EdgeSite) -> str | None:
        """The qualified name of the type the caller is a method of (`A` for `A.m`)."""
        parts = site.caller_qualified_name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            qualified = ".".join(parts[:k])
            ref = self.in_file(site.file_path, parts[k - 1], qualified)
            if ref is not None and ref.kind in _CONTAINERS:
                return qualified
        # Rust impl blocks and Go receivers: the type may be declared in another file
        return ".".join(parts[:-1]) if len(parts) > 1 else None

    # ------------------------------------------------------------------ per receiver

    def resolve(self, site: EdgeSite) -> Resolution:
        # the same call in the same scope of the same file has the same answer: most repeat
        receiver = site.receiver
        # a typed receiver's type may be a class of the caller's own scope
        key = (site.file_path, site.caller_qualified_name
               if receiver in ("bare", "self", "expression") or typed_receiver(site)
               else "",
               site.callee, site.qualifier, receiver, site.language, site.kind)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(site)
        return found

    def _resolve(self, site: EdgeSite) -> Resolution:
        receiver = site.receiver
        if site.kind == "reference":
            return self._reference(site)
        if site.callee.startswith(("super().", "super.")):
            return self._super(site)
        if receiver == "bare":
            return self._bare(site)
        if receiver == "self":
            return self._self(site)
        if receiver == "qualified":
            if typed_receiver(site):
                through = self.through_type(site)
                if through is not None:
                    return through
            found = self._qualified(site)
            if found.provenance == "unresolved" and typed_receiver(site):
                # `r = Request(); r.prepare()` where Request has no `prepare` of its own
                # (inherited, or not ours): the name-based answer, as if it were untyped
                return self._method_by_name(site)
            return found
        made = made_by_call(site)
        if made is not None:  # `Session().send()`, `app.test_client().get()`
            through = self.through_type(made)
            if through is not None:
                return through
        return self._method_by_name(site)

    def _reference(self, site: EdgeSite) -> Resolution:
        """A name used as a value or a type: the same scopes and imports as a call, but a
        member of an unknown receiver is never matched by name (`self.x` is data unless the
        class defines `x`), and a bare name may mean a type (class, trait, interface)."""
        if site.receiver == "self":
            owner = self._enclosing_class(site)
            ref = None if owner is None else self.in_file(
                site.file_path, site.name, f"{owner}.{site.name}")
            return Resolution("local", ref.id) if ref is not None else Resolution("unresolved")
        if site.receiver == "qualified":
            found = self._qualified(site, fallback=False)
            return found
        return self._bare(site)

    def _super(self, site: EdgeSite) -> Resolution:
        """`super().f()`: a base class's `f`, never the caller's own class's."""
        owner = self._enclosing_class(site)
        cls = None if owner is None else self.in_file(
            site.file_path, owner.rsplit(".", 1)[-1], owner)
        if cls is not None:
            inherited = self.inherited(cls, site.name)
            if inherited is not None:
                return inherited
        if common_method(site.name, site.language):
            return Resolution("unresolved")
        fam = family(site.language)
        refs = [r for r in self.view.by_name.get(site.name, ())
                if family(r.language) == fam and r.qualified_name != r.name
                and not (r.file_path == site.file_path
                         and r.qualified_name == f"{owner}.{site.name}")]
        return self._choose(refs, "unique_name")

    def _method_by_name(self, site: EdgeSite) -> Resolution:
        if common_method(site.name, site.language):
            return Resolution("unresolved")
        return self._by_name(site, methods=True)

    def _self(self, site: EdgeSite) -> Resolution:
        owner = self._enclosing_class(site)
        if owner is not None:
            qualified = f"{owner}.{site.name}"
            ref = self.in_file(site.file_path, site.name, qualified)
            if ref is not None:
                return Resolution("local", ref.id)
            folder = _folder(site.file_path)
            if site.language in ("go", "rust"):
                found = self._in_folder(folder, site.language, site.name, qualified)
                if found:
                    return self._choose(found, "local")
            cls = self.in_file(site.file_path, owner.rsplit(".", 1)[-1], owner)
            if cls is not None:
                inherited = self.inherited(cls, site.name)
                if inherited is not None:
                    return inherited
                if self.external_ancestry(cls):
                    return Resolution("unresolved")  # the library base's, most likely
        return self._method_by_name(site)  # inherited, or a callable attribute

    def _bare(self, site: EdgeSite) -> Resolution:
        path, name, language = site.file_path, site.name, site.language
        # enclosing scopes, innermost first (nested functions, then the module)
        parts = site.caller_qualified_name.split(".")
        for k in range(len(parts), -1, -1):
            qualified = ".".join([*parts[:k], name])
            ref = self.in_file(path, name, qualified)
            if ref is not None and (k == 0 or self._scope_visible(path, ".".join(parts[:k]),
                                                                  language)):
                return Resolution("local", ref.id)
        info = self.view.files.get(path)
        if info is not None:
            target = info.bindings.get(name)
            if target is not None:
                return self._through(path, language, binding(language, target))
            for star in info.star_imports:
                found = self.dotted(path, language, f"{star}.{name}")
                if isinstance(found, SymbolRef):
                    return Resolution("import", found.id)
        if language == "go":
            folder = _folder(path)
            found_refs = self._in_folder(folder, language, name, name)
            if found_refs:
                return self._choose(found_refs, "local")
        if language == "python":
            if name in _PY_BUILTINS:
                return Resolution("external", None, f"builtins.{name}")
            if info is not None and any(self._external_module(path, language, star)
                                        for star in info.star_imports):
                return self._by_name(site, methods=False)  # maybe from an external star
            return Resolution("unresolved")
        return self._by_name(site, methods=False)

    def _external_module(self, path: str, language: str, module: str) -> bool:
        anchored = _anchored(path, language, module)
        return anchored is not None and not self.modules.files(anchored) \
            and not self._internal(path, language, module)

    def _scope_visible(self, path: str, scope: str, language: str) -> bool:
        """A name defined in a class body (or impl block) is not visible, bare, from its
        methods in Python, JS/TS, Rust or Go; it is in languages with an implicit `this`."""
        if not scope or language in IMPLICIT_THIS:
            return True
        ref = self.in_file(path, scope.rsplit(".", 1)[-1], scope)
        return ref is None or ref.kind not in _CONTAINERS

    def _through(self, path: str, language: str, target: str) -> Resolution:
        found = self.dotted(path, language, target)
        if isinstance(found, SymbolRef):
            return Resolution("import", found.id)
        if found is None and language == "rust":
            own = self._rust_own_crate(path, target)
            if own is not None:
                return own
        if found is None and not self._internal(path, language, target):
            return Resolution("external", None, target)
        return Resolution("unresolved")  # ours, but gone (deleted, renamed) or not indexed

    def _internal(self, path: str, language: str, target: str) -> bool:
        """A relative import, or one under a top-level package of this workspace."""
        if target.startswith(".") or (language == "rust" and target.split(".")[0] in (
                "crate", "self", "super")):
            return True
        return target.split(".")[0] in self.modules.heads

    def _qualified(self, site: EdgeSite, fallback: bool = True) -> Resolution:
        path, language = site.file_path, site.language
        if site.qualifier.endswith(RESULT):  # a call's result of no type we know
            return self._method_by_name(site) if fallback else Resolution("unresolved")
        head, _, rest = site.qualifier.partition(".")
        member = f"{rest}.{site.name}" if rest else site.name
        if head in ("Self",) and language == "rust":
            return self._self(site)
        info = self.view.files.get(path)
        if info is not None:
            target = info.bindings.get(head)
            if target is not None and language == "go" and "." not in member:
                found = self._go_import(target, member)
                if found is not None:
                    return found
            if target is not None:
                return self._through(path, language, f"{binding(language, target)}.{member}")
        if language == "rust" and head in ("crate", "super", "self"):
            return self._through(path, language, site.callee)
        # a type or namespace of this file: Foo.create(), Foo::new()
        top = self.in_file(path, head, head)
        if top is None and language in ("rust", "go"):
            folder = _folder(path)
            owners = self._in_folder(folder, language, head, head)
            top = owners[0] if len(owners) == 1 else None
        if top is not None:
            qualified = f"{site.qualifier}.{site.name}"
            ref = self.in_file(top.file_path, site.name, qualified)
            if ref is not None:
                return Resolution("local", ref.id)
            cls = self.in_file(top.file_path, site.qualifier.rsplit(".", 1)[-1],
                               site.qualifier)
            if cls is not None and cls.kind in TYPES:
                inherited = self.inherited(cls, site.name)
                if inherited is not None:
                    return inherited
            return Resolution("unresolved")  # inherited or generated: we cannot tell
        if language == "rust" and (info is None or head not in info.bindings):
            own = self._rust_own_crate(path, f"{site.qualifier}.{site.name}")
            if own is not None:  # `serde_json::from_str(...)` in the crate's tests
                return own
        typed = None if info is None or "." in site.qualifier else info.fact(head + CLASS_OF)
        if typed is not None:  # a module-level variable of this file, of a known type
            cls = self.type_ref(path, language, typed)
            ref = None if cls is None else self.method_of(cls, site.name)
            if ref is not None:
                return Resolution(provenance(path, ref), ref.id)
        if language == "python" and head in _PY_BUILTINS:
            return Resolution("external", None, f"builtins.{site.callee}")
        return self._method_by_name(site) if fallback else Resolution("unresolved")



def typed_receiver(site: EdgeSite) -> bool:
    """The qualifier is a local variable's type (aether.symbols.local_types), not the
    receiver as written: `r.prepare` qualified by `Request`."""
    return site.qualifier != "" and not site.callee.startswith(site.qualifier + ".")


def _by_file(view: GraphView) -> dict[tuple[str, str, str], SymbolRef]:
    """(name, qualified name, path) -> the first such symbol of the view."""
    found: dict[tuple[str, str, str], SymbolRef] = {}
    for refs in view.by_name.values():
        for ref in refs:
            found.setdefault((ref.name, ref.qualified_name, ref.file_path), ref)
    return found


def _anchored(from_path: str, language: str, target: str) -> str | None:
    """A binding's target as an absolute dotted module path (relative imports anchored at
    the importing file); None when it cannot name a workspace module."""
    # workspace-relative, already normal: plain string splitting (PurePosixPath showed up
    # in a cold index's profile)
    head = from_path.rpartition("/")[0]
    folder = head.split("/") if head else []
    if family(language) == "ecma":
        if not target.startswith("."):
            return target  # a package: external unless a workspace module has that name
        slash = target.rfind("/")
        dot = target.find(".", slash + 1) if slash >= 0 else -1
        spec, member = (target[:dot], target[dot + 1:]) if dot > slash else (target, "")
        resolved = PurePosixPath(*folder, spec) if folder else PurePosixPath(spec)
        parts: list[str] = []
        for part in resolved.parts:
            if part == "..":
                if parts:
                    parts.pop()
            elif part != ".":
                parts.append(part)
        if parts and parts[-1] == "index":
            parts.pop()
        dotted = ".".join(parts)
        return f"{dotted}.{member}" if member else dotted
    if language == "rust":
        target = target.replace("::", ".")
        parts = target.split(".")
        if parts[0] == "crate":
            # the crate's root is its `src/` (`crate::de` is `src/de.rs`, not
            # `src/value/de.rs`): anchored there, a module name shared by nested folders is
            # not ambiguous
            if "src" in folder:
                root = folder[:len(folder) - folder[::-1].index("src")]
                return ".".join([*root, *parts[1:]])
            return ".".join(parts[1:])
        if parts[0] in ("self", "super"):
            up = folder[:-1] if parts[0] == "super" else folder
            return ".".join([*up, *parts[1:]])
        return target
    if target.startswith("."):  # Python relative import
        dots = len(target) - len(target.lstrip("."))
        base = folder[:len(folder) - (dots - 1)] if dots > 1 else folder
        rest = target[dots:]
        return ".".join([*base, rest]) if rest else ".".join(base)
    return target


def resolve_sites(view: GraphView, sites: list[EdgeSite]) -> list[Resolution]:
    """The store's `Resolver`: one answer per site, in order."""
    resolver = GraphResolver(view)
    return [resolver.resolve(site) for site in sites]
