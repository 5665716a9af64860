"""The static analyser: a SIR for every symbol of a parsed file, from the syntax tree alone.

Cost matters (a cold index runs this on every file), so there is no Python walk over the tree:
the facts patterns ride along in the definitions query (one walk, in C; see static_facts), and
per-symbol structure (parameters, result, docs) is read from a few fields (static_shape).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from aether.sir.static_facts import Facts, FileFacts, collect_facts
from aether.sir.static_rules import MODULE_STATE
from aether.sir.static_shape import Shape, parameter_names, symbol_shape
from aether.symbols.definitions import Definition
from aether.symbols.extract import ParsedSource, file_analysis, parse_source
from aether.symbols.model import FileAnalysis

MAX_CALL_DEPS = 16
MAX_IMPORT_DEPS = 8
MAX_ITEMS = 24
CONFIDENCE_UNDOCUMENTED = 0.3
CONFIDENCE_DOCUMENTED = 0.55
CONFIDENCE_CAP = 0.7


def _call_items(f: FileFacts, facts: Facts, shape: Shape
                ) -> tuple[list[str], list[str], list[str]]:
    """Dependencies, side effects and error modes, the calls' and the rest."""
    calls = facts.calls
    deps: list[str] = []
    heads: set[str] = set()
    effects = facts.effects
    errors = facts.errors
    mutated = facts.mutated
    copied = False
    # by first position, then name: the order captures arrive in is not stable
    for info in sorted(calls, key=lambda c: (calls[c], c.callee)) if len(calls) > 1 else calls:
        if info.dependency and len(deps) < MAX_CALL_DEPS:
            deps.append(info.callee)
        heads.add(info.head)
        if info.effect is not None or info.error is not None or info.mutated is not None:
            if not copied:  # the symbol's own Facts must stay as collected
                effects = {k: dict(v) for k, v in effects.items()}
                errors, mutated, copied = dict(errors), dict(mutated), True
            if info.effect is not None:
                effects.setdefault(info.effect, {})[info.resolved] = None
            if info.error is not None:
                errors[info.error] = None
            if info.mutated is not None:
                mutated[info.mutated] = None
    # the file's imports this symbol uses: through its calls or the types in its signature
    deps.extend(f.calls.imports_used(heads, shape)[:MAX_IMPORT_DEPS])
    side_effects = []
    for label, examples in effects.items():
        names = sorted(examples)
        side_effects.append(f"{label} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
    if mutated:  # a parameter that shadows a module-level name is not module state
        params = parameter_names(shape)
        names = sorted(n for n in mutated if n not in params)
        if names:
            side_effects.append(f"{MODULE_STATE} ({', '.join(names[:3])})")
    side_effects.sort()
    return deps, side_effects, sorted(errors)


def _first(seen: dict[str, int], count: int) -> list[str]:
    return sorted(seen, key=seen.__getitem__)[:count]


def _outputs(facts: Facts, shape: Shape) -> list[str]:
    if shape.returns_type is not None:
        return [t for t in shape.returns_type if t not in ("None", "void", "()")]
    if facts.yields:
        return [f"yields {v}" for v in _first(facts.yields, 3)]
    outputs = [f"returns {v}" for v in _first(facts.returns, 3)]
    if shape.expression_body is not None:
        outputs.append(f"returns {shape.expression_body}")
    return outputs


def _score(documented: bool, typed: bool, has_error: bool) -> float:
    score = CONFIDENCE_DOCUMENTED if documented else CONFIDENCE_UNDOCUMENTED
    if typed:
        score += 0.05
    if has_error:
        score -= 0.15
    return round(max(0.1, min(CONFIDENCE_CAP, score)), 2)  # 0.35, not 0.35000000000000003


# the eight possible scores, worked out once (72,000 symbols a cold index)
_SCORES = {(d, t, e): _score(d, t, e) for d in (False, True) for t in (False, True)
           for e in (False, True)}


def _confidence(shape: Shape) -> float:
    return _SCORES[shape.documented, shape.typed, shape.has_error]


def _descendants(definitions: list[Definition]) -> list[list[int]]:
    """Per symbol, the symbols under it by qualified name: nested ones and, for Rust and Go,
    the methods declared in impl blocks / with receivers elsewhere in the file."""
    keyed = sorted((d.symbol.qualified_name, i) for i, d in enumerate(definitions))
    keys = [k for k, _ in keyed]
    result: list[list[int]] = []
    for d in definitions:
        qualified = d.symbol.qualified_name
        lo = bisect_left(keys, qualified + ".")
        hi = bisect_left(keys, qualified + "/", lo)  # "/" sorts right after "."
        result.append([keyed[j][1] for j in range(lo, hi)])
    return result


def static_sirs(parsed: ParsedSource,
                docs: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """symbol id -> SIR dict for every symbol of the file. `docs`, when given, receives each
    documented symbol's whole documentation (search indexes it; the SIR keeps one sentence)."""
    definitions = parsed.definitions
    own, f = collect_facts(parsed)
    result: dict[str, dict[str, Any]] = {}
    for i, under in enumerate(_descendants(definitions)):
        shape = symbol_shape(parsed, i, f.docstrings.get(i))
        if docs is not None and shape.doc_text:
            docs[definitions[i].symbol.id] = shape.doc_text
        facts = own[i].merged([own[j] for j in under]) if under else own[i]
        deps, side_effects, errors = _call_items(f, facts, shape)
        # Plain, valid data; the Sir model canonicalises (sorts, caps) wherever it is loaded.
        result[definitions[i].symbol.id] = {
            "intent": shape.intent,
            "inputs": shape.inputs[:MAX_ITEMS],
            "outputs": _outputs(facts, shape)[:MAX_ITEMS],
            "side_effects": side_effects[:MAX_ITEMS],
            "dependencies": deps[:MAX_ITEMS],
            "error_modes": errors[:MAX_ITEMS],
            "confidence": _confidence(shape),
        }
    return result


def analyze_with_sirs(file_path: str, language: str, source: bytes, *,
                      timeout_s: float = 5.0, docs: dict[str, str] | None = None,
                      ) -> tuple[FileAnalysis, dict[str, dict[str, Any]]]:
    """One parse of one file: its symbols and imports, and the static SIR of every symbol
    (symbol id -> plain SIR dict), from a single query walk (`docs`: see static_sirs)."""
    parsed = parse_source(file_path, language, source, static=True, timeout_s=timeout_s)
    return file_analysis(parsed), static_sirs(parsed, docs)
