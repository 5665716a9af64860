"""Markdown for editors: the hover text and the stale banner.

SIR text is untrusted (model output over repository text): it is escaped before it goes
into Markdown, so it cannot inject links, images, HTML or command URIs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aether.store.records import SymbolRecord, parse_time


def relative_time(stamp: str | None, now: datetime | None = None) -> str:
    if not stamp:
        return "never"
    try:
        then = parse_time(stamp)
    except ValueError:
        return stamp
    seconds = ((now or datetime.now(UTC)) - then).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now" if seconds < 10 else f"{int(seconds)} seconds ago"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>!|~#{}])")
_SCHEMES = re.compile(r"\b(command|javascript|vscode|vscode-insiders|data|file)(:)", re.I)


def escape_md(text: str) -> str:
    """Make untrusted text inert Markdown: no links, images, HTML, code spans or URIs."""
    flat = " ".join(str(text).split())
    flat = _MD_SPECIAL.sub(r"\\\1", flat)
    return _SCHEMES.sub(r"\1\\\2", flat)


def _fence(code: str, language: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{code}\n{ticks}"


def stale_banner(record: SymbolRecord, *, buffer_differs: bool = False, unsaved: bool = False,
                 now: datetime | None = None) -> str | None:
    """First line of a hover whenever the symbol is not fresh; None when it is.
    `unsaved`: the symbol exists only in the editor's buffer, not yet on disk."""
    when = relative_time(record.last_attempt_at, now)
    err = escape_md(record.last_error or "")
    if unsaved:
        return "⚠ AETHER: no summary yet — save the file to summarise this symbol"
    if record.deferred:
        lead = "no summary yet" if record.sir_json is None else "this summary is kept as it is"
        return f"⚠ AETHER: {lead} — {err}"
    if record.stale_reason == "model_changed":
        return (f"⚠ AETHER: written by {escape_md(record.provider or '?')}/"
                f"{escape_md(record.model or '?')}, not the configured model — a new one "
                "is queued")
    if record.sir_json is None:
        if record.last_error:
            return f"⚠ AETHER: no summary yet — the last attempt ({when}) failed: {err}"
        return "⚠ AETHER: no summary yet — it is queued"
    if record.sir_status == "stale" and record.last_error:
        return f"⚠ AETHER: this summary is stale — the last attempt ({when}) failed: {err}"
    if buffer_differs or record.is_outdated:
        return ("⚠ AETHER: this summary describes an earlier version of this code — "
                "it will be refreshed when the file is saved")
    return None


_SECTIONS = (
    ("inputs", "Inputs"), ("outputs", "Outputs"), ("side_effects", "Side effects"),
    ("dependencies", "Dependencies"), ("error_modes", "Error modes"),
)


def hover_markdown(record: SymbolRecord, *, buffer_differs: bool = False,
                   unsaved: bool = False, now: datetime | None = None) -> str:
    parts: list[str] = []
    banner = stale_banner(record, buffer_differs=buffer_differs, unsaved=unsaved, now=now)
    if banner:
        parts.append(banner)
    parts.append(f"**{escape_md(record.qualified_name)}** · {record.kind}")
    parts.append(_fence(record.signature, record.language))
    sir = record.sir_dict
    if sir:
        parts.append(f"**Intent:** {escape_md(sir.get('intent', ''))}")
        for key, title in _SECTIONS:
            items = sir.get(key) or []
            if items:
                parts.append(f"**{title}**\n" + "\n".join(f"- {escape_md(i)}" for i in items))
        age = relative_time(record.sir_created_at, now)
        source = record.provider or "?"
        if record.model:
            source += f"/{escape_md(record.model)}"
        parts.append(f"_confidence {sir.get('confidence', 0):.2f} · {source} · {age}_")
        line = verification_line(record.verification)
        if line:
            parts.append(line)
    return "\n\n".join(parts)


def verification_line(verification: dict[str, Any] | None) -> str | None:
    """"2 claims not found in the code: …" under a model SIR's hover; None when all hold."""
    if not verification:
        return None
    unsupported = verification.get("unsupported") or []
    missed = verification.get("missed") or []
    lines = []
    if unsupported:
        n = len(unsupported)
        lines.append(f"⚠ {n} claim{'s' if n != 1 else ''} not found in the code: "
                     + "; ".join(escape_md(c) for c in unsupported[:4]))
    if missed:
        lines.append("In the code but not in the summary: "
                     + "; ".join(escape_md(m) for m in missed[:4]))
    return "\n\n".join(lines) or None
