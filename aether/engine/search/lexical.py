"""The lexical retriever: BM25 over the FTS5 columns with OR semantics, then a small rerank
that knows what BM25 does not: how much of the query a symbol covers, whether its name is the
thing asked for, and whether it is product code or a test.

Every term of the query adds to the score; a symbol that matches more of the terms ranks
higher. User text never reaches FTS5 syntax: terms are `\\w` runs, each double-quoted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aether.store.db import Store
from aether.symbols.file_roles import file_role
from aether.symbols.spellings import module_like
from aether.symbols.terms import QueryTerms, dotted, tokens

# Ranked in FTS, reranked here: enough to reorder without reading the whole table.
CANDIDATES = 300
# Tests, examples, vendored and generated code: still found, ranked below product code.
NON_PRODUCT_FACTOR = 0.4
# Per level of nesting past a method (`f.helper`, `C.m.local`): a local function or value is
# rarely what a question or a name means.
NESTING_FACTOR = 0.75


def nesting(qualified_name: str) -> float:
    return float(NESTING_FACTOR ** max(0, dotted(qualified_name).count(".") - 1))
COVERAGE_POWER = 2.0
# Every word of a question of two or more is in the symbol's own and enclosing names:
# "render a template" is `Template.render`, not a class whose summary says both words.
NAMED_FACTOR = 2.0
_FIELDS = ("name", "name words", "enclosing names", "summary", "SIR", "path")

# Tiers (lower first): the name typed exactly; the names spelling the question word for word
# (`Template.render` for "render a template"); a name that starts with the query (as you
# type); everything else.
EXACT, SPELLED, PREFIX, OTHER = 0, 1, 2, 3


@dataclass(slots=True)
class Candidate:
    seq: int
    score: float
    tier: int = OTHER
    # an exact name hit spelled as typed: `Execute` asked, `Execute` rather than `execute`
    # (Go, Java, C#: two symbols; Python: a class `Request` and a function `request`)
    same_case: bool = False
    role: str = "product"
    private: bool = False
    name: str = ""
    matched: dict[str, list[str]] = field(default_factory=dict)  # field -> query words

    @property
    def is_test(self) -> bool:
        return self.role != "product"

    def why(self) -> str:
        if self.tier == EXACT:
            return "exact name match"
        parts = [f"{f}: {', '.join(ws)}" for f, ws in self.matched.items() if ws]
        lead = "name starts with the query; " if self.tier == PREFIX else ""
        return lead + ("matched " + "; ".join(parts) if parts else "matched the query")


def build_match(q: QueryTerms, *, prefix: bool) -> str:
    """An FTS5 query: any term may match (OR). Whole identifiers are looked for in the name
    column; words in every column. `prefix` adds name-starts-with for as-you-type."""
    parts = [f'name : "{w}"' for w in q.whole]
    if prefix:
        parts += [f'name : "{w}"*' for w in q.whole if len(w) >= 2]
    parts += [f'"{w}"' for w in q.words]
    return " OR ".join(dict.fromkeys(parts))


def _private(qualified_name: str, name: str) -> bool:
    if name.startswith("__") and name.endswith("__"):
        return False
    return any((p.startswith("_") and not p.startswith("__")) or
               (p.startswith("__") and not p.endswith("__"))
               for p in dotted(qualified_name).split("."))


async def lexical_candidates(store: Store, q: QueryTerms, *, include_tests: bool,
                             prefix: bool, limit: int = CANDIDATES) -> list[Candidate]:
    rows = await store.search_terms(build_match(q, prefix=prefix), limit)
    wanted = set(q.words)
    typed = dict(zip(q.words, q.raw_words, strict=True))  # stem -> the word as typed
    whole = set(q.whole)
    single = q.whole[0] if len(q.whole) == 1 else None
    out: list[Candidate] = []
    for seq, bm25, name_col, *cols in rows:
        c = Candidate(seq=int(seq), score=-float(bm25), name=name_col)
        seen: set[str] = set()
        for label, text in zip(_FIELDS[1:], cols, strict=True):
            hit = [w for w in dict.fromkeys(text.split()) if w in wanted and w not in seen]
            if hit:
                seen.update(hit)
                c.matched[label] = [typed[w] for w in hit]
        coverage = len(seen) / len(wanted) if wanted else 0.0
        # BM25 already adds per term; the square makes "all of the question" beat "one
        # word of it many times", which is what a question means.
        c.score *= 0.25 + coverage ** COVERAGE_POWER
        if len(wanted) >= 2 and len(seen) == len(wanted):
            names = set(cols[0].split()) | set(cols[1].split())  # own and enclosing names
            if wanted <= names:
                # the more of the names the question spells, the more it means this
                # symbol: `Template.render` over `NativeTemplate.render_async`; all of
                # them, word for word, is a tier of its own
                c.score *= 1.0 + (NAMED_FACTOR - 1.0) * len(wanted) / len(names)
                if names == wanted:
                    c.tier = SPELLED
        if name_col in whole:  # a name typed as such (see aether.symbols.terms.parse_query)
            c.tier = EXACT
            c.score *= 2.0
        elif prefix and single and name_col.startswith(single):
            c.tier = PREFIX
        out.append(c)
    return out


def prominence(record_path: str, qualified_name: str, name: str) -> tuple[bool, bool, int, int]:
    """Sort key among symbols that match equally well (a shared name): product code first,
    then public, then the least nested, then the shortest path."""
    return (file_role(record_path) != "product", _private(qualified_name, name),
            dotted(qualified_name).count("."), len(record_path))


def finish(store_records: dict[int, tuple[str, str, str]], cands: list[Candidate],
           q: QueryTerms, *, include_tests: bool,
           inbound: dict[int, int] | None = None) -> list[Candidate]:
    """Attach roles from paths (seq -> (file_path, qualified_name, name)), demote what is not
    product code, private or deeply nested, and order: tier, then score. Among exact name
    hits (a name many symbols share), the more call sites reach one (`inbound`, seq ->
    count), the higher it ranks."""
    inbound = inbound or {}
    typed = q.path.lower() if q.path else None
    as_typed = set(tokens(q.text))
    for c in cands:
        info = store_records.get(c.seq)
        if info is None:
            continue
        path, qname, name = info
        c.role = file_role(path)
        c.private = _private(qname, name)
        if typed is not None and c.tier == EXACT:
            # `Client.send` names one symbol: its qualified name ends with the path typed;
            # other symbols that merely share a part of it are ordinary matches.
            low = dotted(qname).lower()
            if not (low == typed or low.endswith("." + typed)
                    or (q.path is not None and typed.endswith("." + low)
                        and _behind_modules(q.path, len(low)))):
                c.tier = OTHER
        if c.tier == EXACT:
            c.same_case = (_ends_with(dotted(qname), q.path) if q.path is not None
                           else name in as_typed)
        if not include_tests and c.is_test:
            c.score *= NON_PRODUCT_FACTOR
            if c.tier == SPELLED:  # a test's names spelling the question: still a test
                c.tier = OTHER
        if c.private:
            c.score *= 0.8
        # A function nested in a method is rarely what anyone looks for by name.
        c.score *= nesting(qname)
        if c.tier == EXACT:
            c.score *= 1.0 + math.log1p(inbound.get(c.seq, 0))
    return sorted(cands, key=lambda c: (c.tier, c.tier == EXACT and c.is_test and
                                        not include_tests,
                                        c.tier == EXACT and not c.same_case, -c.score))


def _behind_modules(path: str, length: int) -> bool:
    """`cobra.Command.Execute` typed for `Command.Execute` (the path typed ends with the
    qualified name, `length` characters): what is in front of it names modules."""
    return all(module_like(part) for part in path[:-length - 1].split("."))


def _ends_with(qualified: str, path: str) -> bool:
    """The path typed names this qualified name, in the same case (modules in front of it
    or enclosing names left out)."""
    return (qualified == path or qualified.endswith("." + path)
            or path.endswith("." + qualified))
