"""Secrets in text: what looks like a credential, and how it is masked. (Not `secrets.py`:
a file named `secrets.*` is a secret file, which AETHER never indexes.)

Two jobs, one module, so every place agrees on what a secret is:
- `redact_secrets`: code and text derived from code (a prompt, a SIR, a signature) may hold
  hard-coded credentials. Known key formats, PEM private keys, `password = "…"` style
  assignments and long high-entropy string literals are masked before such text leaves the
  machine or is stored.
- `scrub`: error text and logs must never carry the values of the credentials this process
  holds (every `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD` environment variable), however a
  provider echoes them back: upper-cased, or split into pieces.

The patterns follow the formats providers document and the rules gitleaks and detect-secrets
ship. Written here rather than taken from detect-secrets because that library runs a dozen
plugins line by line (and brings requests and PyYAML along): a cold index screens ~70,000
SIRs, so one combined regex that rejects clean text in a single pass matters more.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

MASK = "***"
MIN_FRAGMENT = 8  # a piece of a known secret this long is masked wherever it appears

# (name, pattern). A pattern with a group `V` masks only that group, keeping the surrounding
# syntax (an assignment's name and quotes) so redacted code still reads as code; `Q` is a quote
# that must close the literal. The rules run as two regexes (each rule's groups renamed
# apart), so clean text costs two passes: the key formats first, anywhere in the text; then
# the generic rules (assignments, random-looking literals), which may decline a candidate
# they matched and so must not hide a known format inside it.
_RULES: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
                    r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)"),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    ("openai_key", r"\bsk-[A-Za-z0-9][A-Za-z0-9_\-]{15,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{30,}"),
    ("aws_access_key", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    ("gitlab_token", r"\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_\-]{20,}"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("url_password", r"(?<=://)[^/\s:@'\"]{1,64}:(?P<V>[^/\s@'\"]{3,})(?=@)"),
    ("assigned_secret",
     r"(?i:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key"
     r"|private[_\-]?key|client[_\-]?secret|credential|auth[_\-]?key)[\w.\-]*['\"]?"
     r"\s*(?::=|=>|=|:)\s*[rbuf]{0,2}(?P<Q>['\"])(?P<V>[^'\"\s]{4,})(?P=Q)"),
    ("high_entropy", r"(?P<Q>['\"`])(?P<V>[A-Za-z0-9+/=_\-]{24,})(?P=Q)"),
)


_GENERIC = frozenset({"assigned_secret", "high_entropy"})


def _combined(generic: bool) -> re.Pattern[str]:
    parts = []
    for i, (name, pattern) in enumerate(_RULES):
        if (name in _GENERIC) != generic:
            continue
        renamed = (pattern.replace("(?P<V>", f"(?P<v{i}>").replace("(?P<Q>", f"(?P<q{i}>")
                   .replace("(?P=Q)", f"(?P=q{i})"))
        parts.append(f"(?P<r{i}>{renamed})")
    return re.compile("|".join(parts))


_PASSES = (_combined(generic=False), _combined(generic=True))

# Cheap screens, run before either regex (plain substring tests run in C at memory speed;
# an alternation of regexes walks every position): the fixed text each key format starts
# with, the words a secret's name contains, and the shape of a long quoted literal.
_KEY_ANCHORS = ("-----BEGIN", "sk-", "sk_", "rk_", "pk_", "AIza", "A3T", "AKIA", "ASIA",
                "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
                "github_pat_", "glpat-", "gldt-", "glptt-", "glrt-", "xox", "hooks.slack",
                "eyJ", "://")
_NAME_ANCHORS = ("passw", "pwd", "secret", "token", "key", "credential")
# each list as one regex of its literals: found in one scan, where `any(a in text ...)` ran a
# generator over every anchor (a cold index screens ~160,000 texts)
_KEY_SCREEN = re.compile("|".join(map(re.escape, _KEY_ANCHORS)))
_NAME_SCREEN = re.compile("|".join(map(re.escape, _NAME_ANCHORS)))
_LONG_LITERAL = re.compile(r"['\"`][A-Za-z0-9+/=_\-]{24}")
_NAMES = tuple(name for name, _ in _RULES)

_HEX = frozenset("0123456789abcdefABCDEF")


def _entropy(text: str) -> float:
    counts = Counter(text)
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def _looks_random(value: str) -> bool:
    """A literal worth masking: mixed letters and digits, and close to random (hex strings
    are judged against hex's lower ceiling). Identifiers, words and paths are not."""
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    if value.count("_") + value.count("-") > len(value) // 4:
        return False  # snake_case_names and kebab-case-words
    threshold = 3.0 if all(c in _HEX for c in value) else 4.0
    return _entropy(value) >= threshold


def _plausible_secret(value: str) -> bool:
    """An assigned value that could be a credential: not a plain word (`"Bearer"`), not a
    placeholder (`"${TOKEN}"`, `"<your key>"`, `"xxxx"`)."""
    if value.isalpha() and len(value) < 16:
        return False
    return value[0] not in "$<{%" and len(set(value)) > 2


def redact_secrets(text: str) -> tuple[str, int]:
    """`text` with every credential-looking value masked, and how many were."""
    if not text:
        return text, 0
    count = 0

    def mask(m: re.Match[str]) -> str:
        nonlocal count
        i = int(m.lastgroup[1:]) if m.lastgroup else -1
        name = _NAMES[i]
        whole = m.group(0)
        value = m.group(f"v{i}") if f"v{i}" in m.re.groupindex else None
        if name == "high_entropy" and not _looks_random(value or ""):
            return whole
        if name == "assigned_secret" and not _plausible_secret(value or ""):
            return whole
        count += 1
        if value is None:
            return f"[redacted {name}]"
        start, end = m.span(f"v{i}")
        return whole[:start - m.start()] + MASK + whole[end - m.start():]

    specific, generic = _PASSES
    if _KEY_SCREEN.search(text) is not None:
        text = specific.sub(mask, text)
    if _NAME_SCREEN.search(text.lower()) is not None or (
            len(text) > 25 and _LONG_LITERAL.search(text) is not None):
        text = generic.sub(mask, text)
    return text, count


# ---------------------------------------------------------------------------- known values

_SECRET_ENV = re.compile(r"(?:_API_KEY|_APIKEY|_TOKEN|_SECRET|_SECRET_KEY|_PASSWORD|_ACCESS_KEY)$")


def env_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """The values of every credential-named environment variable (`*_API_KEY`, `*_TOKEN`, …)
    long enough to be a secret."""
    env = os.environ if environ is None else environ
    return sorted({v for k, v in env.items()
                   if _SECRET_ENV.search(k.upper()) and len(v.strip()) >= MIN_FRAGMENT})


def _spans(haystack: str, secret: str) -> Iterable[tuple[int, int]]:
    """Where any piece of `secret` of at least MIN_FRAGMENT characters occurs in `haystack`
    (both lower-cased by the caller)."""
    if len(secret) < MIN_FRAGMENT:
        start = haystack.find(secret)
        while start != -1 and secret:
            yield start, start + len(secret)
            start = haystack.find(secret, start + 1)
        return
    grams = {secret[i:i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1)}
    for i in range(len(haystack) - MIN_FRAGMENT + 1):
        if haystack[i:i + MIN_FRAGMENT] in grams:
            yield i, i + MIN_FRAGMENT


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with the given secrets and the process's credential variables masked: matched
    case-insensitively, and any fragment of MIN_FRAGMENT or more characters of them."""
    known = [s for s in {*secrets, *env_secrets()} if s and len(s) >= 4]
    if not known or not text:
        return text
    lowered = text.lower()
    covered = bytearray(len(text))
    for secret in known:
        for start, end in _spans(lowered, secret.lower()):
            covered[start:end] = b"\x01" * (end - start)
    if not any(covered):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if covered[i]:
            while i < len(text) and covered[i]:
                i += 1
            out.append(MASK)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
