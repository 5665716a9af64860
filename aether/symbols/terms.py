"""Search terms, the same on both sides: what goes into the full-text index and what a query
becomes. Identifiers are split into their words (and kept whole), English words are stemmed
with Snowball so `retries`, `retry` and `retrying` meet, and stop words are dropped from
natural-language queries only (never from a name someone typed).

Pure functions, no I/O: the store calls them when it writes search rows, the engine when it
reads a query, so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

from aether.symbols.names import identifier_words
from aether.symbols.spellings import name_query

# A "word" of text or code; `::`, `.`, `/`, `-` separate, `_` joins (snake_case stays whole).
_TOKEN = re.compile(r"[^\W_][\w]*|_+[^\W_][\w]*", re.UNICODE)
_PATH_SEP = re.compile(r"::|\.|/|->|#|\\")
# Qualified names are spelled as each language does: `a.b`, `ns::C::m`, `Rack::Cache#call`,
# `GuzzleHttp\Psr7\Stream::read`.
_QUALIFIED_SEP = re.compile(r"::|#|\\|\.")
# A token that only an identifier has: inner underscore, camel hump, letters+digits mix.
_IDENTIFIER_SHAPE = re.compile(r"_|[a-z][A-Z]|[A-Z]{2,}[a-z]|[A-Za-z]\d|\d[A-Za-z]")

STOP_WORDS = frozenset(re.findall(r"\S+", """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves i'd i'm let lets let's
me find show give code function method class does do want get way need something thing things
"""))

# Raise on any change to what these functions return for a name, a path or a text: stores
# rebuild their search rows on open (the search table keeps no copy of them, and deleting a
# row must repeat exactly what was inserted; aether.store.search_rows).
# 2: a SIR's words leave out the stop words (`prose_column`); a search row's path and
# enclosing names lose what repeats (aether.store.records.search_row).
VERSION = 2

MAX_QUERY_CHARS = 1024  # as every surface (the engine checks it first)
MAX_QUERY_TERMS = 24

# Without PyStemmer's own cache (10,000 words by default, kept as lists, strings and bytes
# that outlive every pass): `stem` caches in front of it, and for words not seen before the
# stemmer is ~3x faster without it.
_stemmer = Stemmer.Stemmer("english", 0)


# Cache bounds. Words repeat with a long tail (English words, common identifiers): a few
# thousand entries catch nearly every repeat, and 200,000-entry caches had held ~40 MB of
# mostly one-off names and tokens in the process writing a cold index of 100,000 symbols,
# and again in each parse worker, for no measurable speed.
STEM_CACHE = 16_384
TOKEN_CACHE = 16_384
NAME_CACHE = 4096  # names and paths repeat within a file and across nearby files
ITEM_CACHE = 2048  # SIR list items (`self`, common calls): 2,048 catch ~4 of 5 repeats


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word.lower()))


# Stop words as the search table spells them (stemmed: `doing` -> `do`, `only` -> `onli`).
_STOP_TERMS = STOP_WORDS | frozenset(stem(w) for w in STOP_WORDS)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@lru_cache(maxsize=TOKEN_CACHE)
def _token_terms(token: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in identifier_words(token))


def word_terms(text: str) -> list[str]:
    """Stemmed words of any text, identifiers split (`iter_content` -> iter, content)."""
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        out.extend(_token_terms(tok))
    return out


def identifier_column(name: str) -> str:
    """The whole identifier, lowercased: one FTS token (`_` is a token character)."""
    return " ".join(t.lower() for t in tokens(name))


def words_column(text: str) -> str:
    return " ".join(word_terms(text))


def prose_column(text: str) -> str:
    """`words_column` without the stop words and their stems: what a SIR's intent and other
    fields index. A question never searches for them (`parse_query` drops them), and they
    were 12% of the search index (`of`, `the`, `method`, `class` in nearly every SIR); a
    name typed with one in it (`get_value`) still finds it in the name columns."""
    return " ".join([w for w in word_terms(text) if w not in _STOP_TERMS])


def prose_of(words: str) -> str:
    """A words column (`words_column`) less its stop words: `prose_column` of its text."""
    return " ".join([w for w in words.split() if w not in _STOP_TERMS])


@lru_cache(maxsize=ITEM_CACHE)
def _item_prose(item: str) -> str:
    return prose_column(item)


def items_prose_column(items: Iterable[str]) -> str:
    """`prose_column(" ".join(items))`, each item's words cached: no word spans a space, so
    the words of the joined text are those of its items, in order (a cold index makes the
    words of ~340,000 SIR items, ~85% of them repeats)."""
    return " ".join([w for w in map(_item_prose, items) if w])


@lru_cache(maxsize=NAME_CACHE)
def name_columns(name: str) -> tuple[str, str]:
    """(identifier_column, words_column) of a name, a qualified name or a path."""
    return identifier_column(name), words_column(name)


def clear_caches() -> None:
    """Forget the cached terms: a bulk pass fills them (a few MB at most), and a
    daemon that stays up should not keep that between passes."""
    stem.cache_clear()
    _token_terms.cache_clear()
    _item_prose.cache_clear()
    name_columns.cache_clear()


def dotted(qualified_name: str) -> str:
    """A qualified name with every language's separator written as `.`."""
    return _QUALIFIED_SEP.sub(".", qualified_name)


def enclosing(qualified_name: str) -> str:
    """`HTTPAdapter.send` -> `HTTPAdapter`; `ns::Cache::get` -> `ns.Cache`."""
    return dotted(qualified_name).rpartition(".")[0]


def looks_like_identifier(token: str) -> bool:
    return bool(_IDENTIFIER_SHAPE.search(token.strip("_"))) or token.startswith("_")


def is_prose_stop_word(word: str) -> bool:
    return word.lower() in STOP_WORDS


@dataclass(slots=True)
class QueryTerms:
    """What a query asks for. `whole`: identifiers to match whole in the name column;
    `words`: stemmed words for every text column; `raw_words`: the same, unstemmed, for
    `why` and the embedding of the query."""

    text: str
    whole: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    raw_words: list[str] = field(default_factory=list)
    identifier_query: bool = False
    path: str | None = None  # a dotted path typed as such (`Client.send`, `a::b` -> `a.b`)
    dropped_stop_words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.whole and not self.words


class QueryError(ValueError):
    """The query cannot be searched; the message is one line, fit for a user."""


def parse_query(text: str) -> QueryTerms:
    """Turn what someone typed into terms. Raises QueryError for a query with nothing to
    search (empty, punctuation only, stop words only)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    text = name_query(text)  # `(*Command).Execute`, `Execute()`: the name as stored
    raw = [t for t in tokens(_PATH_SEP.sub(" ", text)) if t]
    if not raw:
        raise QueryError("query has no letters or digits to search for")
    stripped = text.strip()
    path = re.fullmatch(r"[\w$]+(?:(?:\.|::|#|\\)[\w$]+)+", stripped)
    # A name typed as such: one token, or a dotted path. Anything else is prose, perhaps
    # with a few names in it (`HTTPAdapter send`): those names are kept whole as well.
    identifier_query = len(raw) == 1 or path is not None
    q = QueryTerms(text=text, identifier_query=identifier_query)
    if path is not None:
        q.path = dotted(stripped)
    seen: set[str] = set()
    for tok in raw:
        low = tok.lower()
        named = identifier_query or looks_like_identifier(tok)
        if named and low not in q.whole:
            q.whole.append(low)
        parts = identifier_words(tok) or [low]
        for word in parts:
            if not named and word in STOP_WORDS:
                q.dropped_stop_words.append(word)
                continue
            s = stem(word)
            if s and s not in seen:
                seen.add(s)
                q.words.append(s)
                q.raw_words.append(word)
    q.whole = q.whole[:MAX_QUERY_TERMS]
    q.words = q.words[:MAX_QUERY_TERMS]
    q.raw_words = q.raw_words[:MAX_QUERY_TERMS]
    if q.empty:
        raise QueryError("query has only common words (like 'the', 'of', 'how'); "
                         "add a word that names what you are looking for")
    return q
