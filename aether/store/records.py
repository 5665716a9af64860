"""Plain records the store reads and writes (no SQL here, no I/O)."""

from __future__ import annotations

import json
import pickle
import posixpath
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aether.hashing import text_hash
from aether.redaction import redact_secrets
from aether.sir.canonical import LIST_FIELDS, canonical_dict, canonical_dict_json
from aether.store.packing import pack_sir, sir_json_of
from aether.symbols.model import CallSite, Symbol
from aether.symbols.terms import enclosing, items_prose_column, name_columns, prose_column

if TYPE_CHECKING:
    from aether.sir.model import Sir

DEFERRED_PREFIX = "spend_cap:"  # how a `last_error` of a symbol held back by a cap starts


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds: sortable as text, readable by people."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_text(ms: int) -> str:
    """Milliseconds since 1970 UTC (how the store keeps a SIR's times) as `utc_now` writes
    it."""
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


# Bytes of a hash in a vector row (aether.store.vectors.pack_vector_hash): it only has to
# show that a text or SIR changed (one row per symbol, never looked up by it). 8 until v25;
# 4 (issue 17: 0.33 MB on Django) miss a change once in 4 billion, and a missed change
# leaves one symbol's search vector as it was.
VECTOR_HASH_BYTES = 4


def pack_hash(value: str | None) -> bytes | str | None:
    """A hash or symbol id as the store keeps it (vector rows since v16; symbols' and SIRs'
    since v20): 16 bytes for aether's 32 hex characters (aether.hashing); anything else as
    it is."""
    if value is not None and len(value) == 32:
        # one C call and a check back (lowercase hex only: `hex()` gives back exactly the
        # strings to take) instead of a set test per character: ~470,000 calls a cold index
        try:
            packed = bytes.fromhex(value)
        except ValueError:
            return value
        if packed.hex() == value:
            return packed
    return value


def hash_text(value: bytes | str | None) -> str | None:
    """A hash read back from the store, as it was given to `pack_hash`."""
    return value.hex() if isinstance(value, bytes) else value


_NAME, _VERBATIM = "\x01", "\x02"


def stored_signature(signature: str, name: str) -> str:
    """A signature as `symbols` keeps it (v20): the first occurrence of the symbol's name, which
    most signatures repeat (`def name(...)`), as one mark character; a signature holding
    either mark itself is kept verbatim behind the second. `signature_of` reverses it."""
    if _NAME in signature or _VERBATIM in signature:
        return _VERBATIM + signature
    return signature.replace(name, _NAME, 1) if name else signature


def signature_of(stored: str, name: str) -> str:
    if stored.startswith(_VERBATIM):
        return stored[1:]
    return stored.replace(_NAME, name, 1)


def stored_qualified(qualified_name: str, name: str) -> str:
    """A qualified name as `symbols.qualified` keeps it (v22): the name it ends with (nearly
    always) as the mark `stored_signature` uses; one holding either mark, verbatim behind
    the second. Read back in SQL (aether.store.queries.qname) or by `qualified_of`."""
    if _NAME in qualified_name or _VERBATIM in qualified_name:
        return _VERBATIM + qualified_name
    if name and qualified_name.endswith(name):
        return qualified_name[:-len(name)] + _NAME
    return qualified_name


def qualified_of(stored: str, name: str) -> str:
    if stored.startswith(_VERBATIM):
        return stored[1:]
    return stored[:-1] + name if stored.endswith(_NAME) else stored


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# C0/C1 controls (ANSI escapes included) and bidi overrides: text from a provider or a file
# must not be able to move a terminal's cursor or reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str, limit: int = 300) -> str:
    """Untrusted text as one line of plain text: control characters removed, whitespace
    collapsed, at most `limit` characters."""
    flat = " ".join(_CONTROL.sub("", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(slots=True)
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    language: str | None = None
    content_hash: str | None = None
    status: str = "indexed"  # indexed | skipped
    skip_reason: str | None = None
    has_syntax_errors: bool = False
    imports: list[str] = field(default_factory=list)
    bindings: dict[str, str] = field(default_factory=dict)  # imported local name -> target
    star_imports: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PreparedSir:
    """A SIR ready to store: canonical JSON, its hash, and the words search indexes. Built
    where the SIR is made (in parse workers for static SIRs), so the writer only writes."""

    sir_json: str
    sir_hash: str
    intent_terms: str  # stemmed, identifier-split words of the intent (aether.symbols.terms)
    other_terms: str  # the same for every other SIR field
    redactions: int = 0  # credentials masked in this SIR and in the prompt that made it
    # JSON and terms as stored (aether.store.packing), packed where the SIR is made: in the
    # parse workers for static SIRs, off the writer's thread. Empty: packed when stored.
    packed: bytes = b""

    def stored(self) -> bytes:
        return self.packed or pack_sir(self.sir_json, self.intent_terms, self.other_terms)

    @property
    def terms(self) -> tuple[str, str]:
        return self.intent_terms, self.other_terms

    @classmethod
    def of(cls, sir: Sir, *, redactions: int = 0, doc: str = "") -> PreparedSir:
        """Canonical form of `sir` with any hard-coded credential masked first: nothing
        stored or searchable ever holds one. `doc`: the symbol's whole documentation, searched
        with the other fields (a static SIR's intent keeps only its first sentence)."""
        sir, found = sir.redacted()
        canonical = sir.canonical_json()
        others = [*sir.inputs, *sir.outputs, *sir.side_effects, *sir.dependencies,
                  *sir.error_modes]
        if doc:
            clean, masked = redact_secrets(doc)
            others.append(clean)
            found += masked
        intent, other = prose_column(sir.intent), prose_column(" ".join(others))
        return cls(canonical, text_hash(canonical), intent, other, redactions + found,
                   pack_sir(canonical, intent, other))

    @classmethod
    def of_static(cls, data: dict[str, Any], *, doc: str = "") -> PreparedSir:
        """`of(Sir.model_validate(data), doc=doc)`, byte for byte, for a SIR dict the static
        analyser made: its canonical form is built directly (see `canonical_dict`), and
        anything unusual takes the validated path."""
        canon = canonical_dict(data)
        if canon is None:
            from aether.sir.model import Sir  # the model, only for what needs validating

            return cls.of(Sir.model_validate(data), doc=doc)
        canonical = canonical_dict_json(canon)
        other = items_prose_column([i for f in LIST_FIELDS for i in canon[f]])
        found = 0
        if doc:  # `of` joins it last: its words follow the items'
            clean, found = redact_secrets(doc)
            words = prose_column(clean)
            other = f"{other} {words}" if other and words else other or words
        intent = prose_column(canon["intent"])
        return cls(canonical, text_hash(canonical), intent, other, found,
                   pack_sir(canonical, intent, other))

    @classmethod
    def terms_of_json(cls, sir_json: str | None) -> tuple[str, str]:
        """(intent_terms, other_terms) of a stored SIR; empty when there is none."""
        if not sir_json:
            return "", ""
        from aether.sir.model import Sir

        p = cls.of(Sir.from_json(sir_json))
        return p.intent_terms, p.other_terms


def search_row(seq: int, name: str, qualified_name: str, file_path: str,
               terms: tuple[str, str] | None) -> tuple[Any, ...]:
    """One row of `symbol_fts`, in its column order (see aether.store.schema v7): the name
    whole and as words, the enclosing names' words, the SIR's intent and other fields
    (`terms`), the path's words that no other column has. The search table keeps no copy of
    it (v15): deleting the row repeats it, so it must come out the same from the same
    symbol and terms (aether.symbols.terms.VERSION)."""
    whole, words = name_columns(name)
    intent, other = terms or ("", "")
    qual, qual_words = _qual_column(enclosing(qualified_name))
    # Since terms v2 (schema v23) the path's words leave out those another column has (a
    # match there already counts: `lexical_candidates` credits a word to its first column)
    # and the file's extension (`py` in every row): 8% of the index on Django; the enclosing
    # names are only words (a whole identifier is looked for in `name` alone), and the
    # intent leaves out theirs (`Test x (method of XTests)`: 4% more).
    if qual_words and intent:
        split = intent.split()
        if not qual_words.isdisjoint(split):
            intent = " ".join([w for w in split if w not in qual_words])
    others = f" {words} {qual} {intent} {other} "
    path = " ".join([w for w, padded in _path_words(file_path) if padded not in others])
    return (seq, whole, words, qual, intent, other, path)


@lru_cache(maxsize=1024)  # the symbols of a file come together
def _path_words(file_path: str) -> tuple[tuple[str, str], ...]:
    """The path's words without its extension, each once, and each between spaces."""
    words = dict.fromkeys(name_columns(posixpath.splitext(file_path)[0])[1].split())
    return tuple((w, f" {w} ") for w in words)


@lru_cache(maxsize=4096)  # the enclosing class of every method, over and over
def _qual_column(parents: str) -> tuple[str, frozenset[str]]:
    words = name_columns(parents)[1]
    return words, frozenset(words.split())


def clear_search_row_cache() -> None:
    """Forget the cached enclosing-name columns (an idle daemon; see `search_row`)."""
    _qual_column.cache_clear()
    _path_words.cache_clear()


@dataclass(slots=True)
class FileChange:
    """One file's new state: applied atomically (its symbols, their metadata, static SIRs)."""

    record: FileRecord
    symbols: list[Symbol] = field(default_factory=list)
    static_sirs: dict[str, PreparedSir] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    # The same call sites as a worker pickled them (a cold pass holds these bytes until its
    # final resolve: ~30 MB instead of ~105 MB of tuples at 571,000 sites). Either is set.
    packed_calls: bytes | None = None

    def call_sites(self) -> list[Any]:
        """Call sites as tuples in CallSite order, whichever form they came in."""
        return unpack_sites(self.packed_calls) if self.packed_calls else list(self.calls)


def pack_sites(calls: list[CallSite]) -> bytes:
    """Call sites as plain tuples, pickled: they load in C, with no Python per site."""
    return pickle.dumps([tuple(c) for c in calls], pickle.HIGHEST_PROTOCOL)


def unpack_sites(packed: bytes) -> list[Any]:
    return list(pickle.loads(packed))


@dataclass(frozen=True, slots=True)
class NewSir:
    symbol_id: str
    sir: PreparedSir
    source_hash: str
    provider: str
    model: str
    prompt_version: str = ""
    verification: str | None = None  # JSON (aether.sir.verify), model SIRs only


@dataclass(slots=True)
class SymbolRecord:
    """A symbol joined with its SIR and SIR metadata: everything a surface shows."""

    id: str
    language: str
    file_path: str
    kind: str
    name: str
    qualified_name: str
    signature: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    start_byte: int
    end_byte: int
    content_hash: str
    sir_status: str
    last_error: str | None
    last_attempt_at: str | None
    attempts: int
    updated_at: str | None
    sir_json: str | None = None
    sir_hash: str | None = None
    source_hash: str | None = None
    provider: str | None = None
    model: str | None = None
    sir_created_at: str | None = None
    prompt_version: str | None = None
    verification_json: str | None = None

    def __post_init__(self) -> None:
        if self.sir_json is not None and not isinstance(self.sir_json, str):
            self.sir_json = sir_json_of(self.sir_json)  # as stored: packed with its terms
        # as stored since v17: milliseconds since 1970 UTC
        if isinstance(self.last_attempt_at, int):
            self.last_attempt_at = utc_text(self.last_attempt_at)
        if isinstance(self.updated_at, int):
            self.updated_at = utc_text(self.updated_at)
        if isinstance(self.sir_created_at, int):  # since v19
            self.sir_created_at = utc_text(self.sir_created_at)
        self.signature = signature_of(self.signature, self.name)  # since v20
        if isinstance(self.content_hash, bytes):  # since v20: 16 bytes (pack_hash)
            self.content_hash = self.content_hash.hex()
        if isinstance(self.sir_hash, bytes):
            self.sir_hash = self.sir_hash.hex()
        if isinstance(self.source_hash, bytes):
            self.source_hash = self.source_hash.hex()

    @property
    def verification(self) -> dict[str, Any] | None:
        return json.loads(self.verification_json) if self.verification_json else None

    @property
    def sir(self) -> Sir | None:
        from aether.sir.model import Sir

        return Sir.from_json(self.sir_json) if self.sir_json else None

    @property
    def sir_dict(self) -> dict[str, Any] | None:
        return json.loads(self.sir_json) if self.sir_json else None

    @property
    def is_outdated(self) -> bool:
        """The stored SIR describes older code than the symbol now has."""
        return self.source_hash is not None and self.source_hash != self.content_hash

    @property
    def stale_reason(self) -> str | None:
        """Why the symbol is not fresh (additive to sir_status): failed | outdated |
        model_changed (another provider, model or prompt version wrote the SIR) | None."""
        if self.sir_status != "stale":
            return None
        if self.last_error and not self.deferred:
            return "failed"
        return "outdated" if self.is_outdated or not self.sir_json else "model_changed"

    @property
    def deferred(self) -> bool:
        """Not attempted: a spend cap stopped the request (`last_error` says which)."""
        return bool(self.last_error and self.last_error.startswith(DEFERRED_PREFIX))


@dataclass(frozen=True, slots=True)
class Counts:
    file_count: int
    skipped_file_count: int
    symbol_count: int
    sir_count: int
    ok_count: int
    stale_count: int
    pending_count: int
    error_count: int
    redacted_symbol_count: int = 0
    redaction_count: int = 0
