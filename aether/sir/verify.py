"""A model's SIR checked against the static facts of the same code.

The static analyser knows, from the syntax tree alone, which parameters a symbol takes, which
effectful calls it makes (file, network, process, database, environment, global state,
output), which exceptions it raises or catches, and what it calls. A model's SIR makes claims
about the same things. Each claim the check can classify is `supported` (the code shows it)
or `unsupported` (not found in the code: the model may be right through a call the parser
cannot follow, but nothing in this symbol's text shows it); each static fact the SIR does not
mention is `missed`. Claims it cannot classify (prose such as "may be slow") are not counted.

Deterministic and cheap (string matching over a SIR and one symbol's text), so it runs on every
model SIR; its result is stored with the SIR and folded into its confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aether.sir.model import Sir

MAX_LISTED = 24
UNSUPPORTED_WEIGHT = 0.5  # confidence lost when every checked claim is unsupported
MISSED_PENALTY = 0.05  # per missed fact, at most MAX_MISSED_PENALISED of them
MAX_MISSED_PENALISED = 4

# Effect categories: the words a model uses for one, and the static labels that show it.
_EFFECTS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "network": (re.compile(r"\b(network|https?|web ?request|api call|socket|url|download|"
                           r"upload|remote (server|service|api|endpoint)|sends? (a |an )?"
                           r"request)\b", re.I), ("network I/O",)),
    "file": (re.compile(r"\b(files?|disk|file ?system|directory|directories|folder)\b", re.I),
             ("reads files", "writes files", "reads the file system",
              "modifies the file system")),
    "process": (re.compile(r"\b(subprocess|spawns?|child process|shell command|executes? a "
                           r"command|exits?( the)? (process|program))\b", re.I),
                ("spawns processes", "exits the process")),
    "database": (re.compile(r"\b(database|sql|sqlite|db|transaction)\b", re.I),
                 ("database access",)),
    "environment": (re.compile(r"\b(environment|env(iron)? var(iable)?s?|os\.environ)\b",
                               re.I), ("reads environment", "modifies environment")),
    "global state": (re.compile(r"\b(global|module[- ]level|module state|singleton)\b", re.I),
                     ("mutates global state", "mutates module state")),
    "output": (re.compile(r"\b(stdout|stderr|prints?|console|logs?|logging)\b", re.I),
               ("writes to stdout", "writes to stderr", "logs")),
}
_EXCEPTION = re.compile(
    r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt|Warning)|Error|Exception)\b")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LEADING_IDENT = re.compile(r"^\s*\**\s*([A-Za-z_][A-Za-z0-9_]*)")
_STOP = frozenset({
    "the", "and", "for", "with", "from", "into", "its", "this", "that", "module", "library",
    "function", "method", "class", "object", "instance", "standard", "builtin", "built",
    "python", "call", "calls", "uses", "use", "via", "optional", "default", "value", "values",
    "none", "true", "false", "self", "cls", "string", "str", "int", "dict", "list", "bool",
})
_NOT_INPUTS = frozenset({"self", "cls", "none", "no", "nothing", "the", "a", "an"})


@dataclass(slots=True)
class Verification:
    supported: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return len(self.supported) + len(self.unsupported)

    @property
    def unsupported_share(self) -> float:
        return len(self.unsupported) / self.checked if self.checked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"supported": self.supported[:MAX_LISTED],
                "unsupported": self.unsupported[:MAX_LISTED],
                "missed": self.missed[:MAX_LISTED], "checked": self.checked,
                "unsupported_share": round(self.unsupported_share, 2)}


def _categories(text: str) -> set[str]:
    return {name for name, (pattern, _) in _EFFECTS.items() if pattern.search(text)}


def _static_categories(static: Sir) -> dict[str, str]:
    """category -> the static side effect that shows it (first one)."""
    found: dict[str, str] = {}
    for effect in static.side_effects:
        for name, (_, labels) in _EFFECTS.items():
            if any(effect.startswith(label) for label in labels):
                found.setdefault(name, effect)
    return found


def _raised(static: Sir) -> set[str]:
    return {e.split(" ", 1)[1] for e in static.error_modes if e.startswith("raises ")}


def _param_names(static: Sir) -> list[str]:
    names = []
    for item in static.inputs:
        m = _LEADING_IDENT.match(item)
        if m and m.group(1) not in ("self", "cls"):
            names.append(m.group(1))
    return names


def _words(text: str) -> set[str]:
    return {w.lower() for w in _IDENT.findall(text)}


def verify(model: Sir, static: Sir, source: str, context: str = "") -> Verification:
    """Check `model` (a provider's SIR) against `static` (the analyser's SIR of the same
    code) and the code's text."""
    v = Verification()
    code_words = _words(source) | _words(context)
    static_effects = _static_categories(static)

    claimed: set[str] = set()
    for claim in model.side_effects:
        cats = _categories(claim)
        if not cats:
            continue
        claimed |= cats
        if cats & static_effects.keys():
            v.supported.append(f"side effect: {claim}")
        else:
            v.unsupported.append(f"side effect: {claim}")
    for cat, effect in static_effects.items():
        if cat not in claimed and not any(cat in _categories(t) for t in
                                          (model.intent, *model.outputs)):
            v.missed.append(f"side effect: {effect}")

    raised, caught_or_raised = _raised(static), {e.split(" ", 1)[-1] for e in static.error_modes}
    mentioned: set[str] = set()
    for claim in model.error_modes:
        names = set(_EXCEPTION.findall(claim))
        if not names:
            continue
        mentioned |= names
        if all(n in caught_or_raised or n.lower() in code_words for n in names):
            v.supported.append(f"error: {claim}")
        else:
            v.unsupported.append(f"error: {claim}")
    every_error_text = " ".join(model.error_modes)
    for name in sorted(raised):
        if name not in mentioned and name not in every_error_text:
            v.missed.append(f"raises {name}")

    for claim in model.dependencies:
        words = [w for w in _IDENT.findall(claim.replace(".", " ")) if len(w) >= 3
                 and w.lower() not in _STOP]
        if not words:
            continue
        if any(w.lower() in code_words for w in words):
            v.supported.append(f"dependency: {claim}")
        else:
            v.unsupported.append(f"dependency: {claim}")

    params = _param_names(static)
    named: set[str] = set()
    for claim in model.inputs:
        m = _LEADING_IDENT.match(claim)
        if m is None or m.group(1).lower() in _NOT_INPUTS:
            continue
        name = m.group(1)
        named.add(name)
        if name in params or name.lower() in code_words:
            v.supported.append(f"input: {claim}")
        else:
            v.unsupported.append(f"input: {claim}")
    all_inputs = " ".join(model.inputs)
    for p in params:
        if p not in named and not re.search(rf"\b{re.escape(p)}\b", all_inputs):
            v.missed.append(f"input: {p}")
    return v


def adjusted_confidence(confidence: float, v: Verification) -> float:
    """The model's confidence, lowered by the share of its claims the code does not show and
    by the facts it missed."""
    penalty = MISSED_PENALTY * min(len(v.missed), MAX_MISSED_PENALISED)
    value = confidence * (1.0 - UNSUPPORTED_WEIGHT * v.unsupported_share) - penalty
    return round(max(0.05, min(1.0, value)), 2)


def facts_for_prompt(static: Sir) -> str:
    """The static facts, as one context line for the one retry of a contradicting SIR."""
    parts = []
    if static.inputs:
        parts.append("parameters: " + ", ".join(static.inputs))
    parts.append("side effects found: " + (", ".join(static.side_effects) or "none"))
    parts.append("errors raised/caught: " + (", ".join(static.error_modes) or "none"))
    if static.dependencies:
        parts.append("calls and imports: " + ", ".join(static.dependencies))
    return ("Facts a parser found in this code (describe only what the code shows; do not "
            "claim effects or errors it does not have): " + "; ".join(parts))
