"""The prompt a model sees for one symbol, the parsing of its answer, and the one repair.

All three HTTP providers go through `generate_sir`, so the budget, the parsing and the single
repair round-trip behave the same whoever answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from aether.providers.base import SirRequest
from aether.providers.errors import InvalidOutput
from aether.sir.model import Sir

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


Complete = Callable[[list[Message]], Awaitable[str]]

# Recorded with every model SIR: a new version makes the SIRs of the old one stale.
PROMPT_VERSION = "sir-prompt-1"

SYSTEM_PROMPT = """\
You document source code for other programs. For the one symbol you are given, answer with
a single JSON object and nothing else (no prose, no markdown fences), with exactly these keys:
{
  "intent": "one or two sentences: what the symbol is for (required, non-empty)",
  "inputs": ["each parameter or input it reads, short"],
  "outputs": ["what it returns or produces, short"],
  "side_effects": ["I/O, network, subprocess, database, environment, global state it touches"],
  "dependencies": ["functions, classes and modules it relies on"],
  "error_modes": ["exceptions it raises or errors it reports, and when"],
  "confidence": 0.5
}
Lists hold short strings and may be empty. "confidence" is a number from 0.0 to 1.0: how sure
you are that this summary is right given only the code shown. Describe only what the code
shows; if the source was truncated, say so in intent and lower the confidence."""

REPAIR_PROMPT = """\
Your previous answer could not be used: {error}
Reply again with only the corrected JSON object, with the keys intent, inputs, outputs,
side_effects, dependencies, error_modes and confidence."""

# Share of the budget the context may take; the symbol's own source gets the rest.
_CONTEXT_SHARE = 0.25
_MIN_SOURCE_CHARS = 200
_ECHO_LIMIT = 2000  # how much of a bad answer is sent back in the repair request


def truncate_middle(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, keeping head and tail, with an honest marker."""
    if limit <= 0 or len(text) <= limit:
        return text
    head_end = (limit * 2) // 3
    tail_start = len(text) - (limit - head_end)
    # Cut at line ends when one is near, so no line is shown half.
    newline = text.rfind("\n", 0, head_end)
    if newline > head_end // 2:
        head_end = newline + 1
    newline = text.find("\n", tail_start, len(text) - 1)
    if newline != -1 and newline - tail_start < (len(text) - tail_start) // 2:
        tail_start = newline + 1
    omitted = tail_start - head_end
    lead = "" if text[:head_end].endswith("\n") else "\n"
    marker = f"{lead}… [truncated: {omitted} of {len(text)} characters omitted] …\n"
    return text[:head_end] + marker + text[tail_start:]


def build_messages(request: SirRequest, budget_chars: int) -> list[Message]:
    """System instructions plus one user message within `budget_chars` (0 = no limit)."""
    header = (
        f"Language: {request.language}\n"
        f"File: {request.file_path}\n"
        f"Kind: {request.kind}\n"
        f"Qualified name: {request.qualified_name}\n"
        f"Signature: {request.signature}\n"
    )
    context = "\n".join(request.context)
    source = request.source
    if budget_chars > 0:
        room = max(_MIN_SOURCE_CHARS, budget_chars - len(header))
        context_room = int(room * _CONTEXT_SHARE) if context else 0
        context = truncate_middle(context, context_room) if context_room else ""
        # Context the source does not need is given back to the source.
        source = truncate_middle(source, max(_MIN_SOURCE_CHARS, room - len(context)))
    parts = [header]
    if context:
        parts.append(f"Context:\n{context}\n")
    parts.append(f"Source:\n```{request.language}\n{source}\n```\n")
    parts.append("Answer with the JSON object only.")
    return [Message("system", SYSTEM_PROMPT), Message("user", "\n".join(parts))]


class SirParseError(ValueError):
    """The model's text is not a valid SIR; the message is short and fit to send back."""


def _outermost_object(text: str) -> str | None:
    """The first balanced `{...}` in `text`, skipping braces inside JSON strings."""
    start = text.find("{")
    while start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        start = text.find("{", start + 1)
    return None


def parse_sir(text: str) -> Sir:
    """Parse a model answer into a Sir: fences stripped, outermost object found, validated."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    candidate = _outermost_object(body)
    if candidate is None:
        raise SirParseError("the answer contains no JSON object")
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise SirParseError(
            f"the JSON object does not parse: {exc.msg} at char {exc.pos}") from None
    try:
        return Sir.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:4]:
            loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
            problems.append(f"{loc}: {err.get('msg', 'invalid')}")
        raise SirParseError("the JSON does not match the schema: " + "; ".join(problems)) from None


def repair_messages(messages: list[Message], answer: str, error: str) -> list[Message]:
    """The conversation so far, the bad answer, and a request to fix it."""
    echoed = answer if len(answer) <= _ECHO_LIMIT else answer[:_ECHO_LIMIT] + "…"
    return [*messages, Message("assistant", echoed or "(empty)"),
            Message("user", REPAIR_PROMPT.format(error=error))]


async def generate_sir(request: SirRequest, complete: Complete, budget_chars: int, *,
                       provider: str = "provider") -> Sir:
    """Ask once; if the answer is not a valid SIR, ask exactly once more to repair it.

    Errors from `complete` (rate limits, timeouts, auth) propagate untouched; only a second
    invalid answer becomes InvalidOutput."""
    messages = build_messages(request, budget_chars)
    answer = await complete(messages)
    try:
        return parse_sir(answer)
    except SirParseError as first:
        repaired = await complete(repair_messages(messages, answer, str(first)))
        try:
            return parse_sir(repaired)
        except SirParseError as second:
            raise InvalidOutput(
                f"{provider} gave no valid SIR, even after one repair request: {second}"
            ) from None
