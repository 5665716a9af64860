"""Plain data produced by symbol extraction (picklable: it crosses process boundaries)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import NamedTuple

# Kinds a symbol can have. Languages map their constructs onto these.
KINDS = ("function", "method", "class", "struct", "enum", "trait", "interface", "type_alias",
         "module", "object")  # object: a named JavaScript/TypeScript object literal


@dataclass(frozen=True, slots=True)
class Symbol:
    id: str  # stable id, see aether.symbols.ids.symbol_id
    language: str
    file_path: str  # workspace-relative, posix
    kind: str  # one of KINDS
    name: str
    qualified_name: str  # e.g. "Session.send"
    signature: str  # whitespace-normalised header, e.g. "def send(self, request, **kw) -> Response"
    start_line: int  # 1-based
    start_col: int  # 1-based
    end_line: int  # 1-based, inclusive
    end_col: int  # 1-based
    start_byte: int
    end_byte: int
    content_hash: str  # hash of the symbol's source text

    def __reduce__(self) -> tuple[type[Symbol], tuple[object, ...]]:
        # A frozen slots dataclass pickles through dataclasses.fields() per object, which
        # cost a cold index of the stdlib 6 s of CPU; a plain tuple of values costs ~nothing.
        return (Symbol, _symbol_values(self))


_SYMBOL_FIELDS = tuple(f.name for f in fields(Symbol))
_symbol_values = attrgetter(*_SYMBOL_FIELDS)  # the values in field order, as one C call


class CallSite(NamedTuple):
    """One call inside one symbol (a NamedTuple: cheap to pickle across processes; the
    store inserts it as is, so its field order is the edges table's column order)."""

    caller_id: str
    callee: str  # normalised text: `self.save`, `os.path.join`, `Foo.new`, `helper`
    name: str  # the called name: last segment of the callee
    receiver: str  # bare | self | qualified | expression (aether.symbols.calls)
    qualifier: str  # for QUALIFIED: the dotted path before the name (`os.path`)
    line: int  # 1-based, of the called name
    column: int  # 1-based
    kind: str = "call"  # call | reference (a name used as a value or a type, not called)


@dataclass(slots=True)
class FileAnalysis:
    """Everything one parse of one file yields."""

    file_path: str
    language: str
    symbols: list[Symbol]
    imports: list[str] = field(default_factory=list)  # module names/paths imported by the file
    has_syntax_errors: bool = False
    calls: list[CallSite] = field(default_factory=list)  # in document order
    bindings: dict[str, str] = field(default_factory=dict)  # imported local name -> target
    star_imports: list[str] = field(default_factory=list)  # modules imported with `*`
