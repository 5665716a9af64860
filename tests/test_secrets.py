"""What counts as a secret, how it is masked, and how known secrets are scrubbed (pure logic;
the end-to-end checks are in test_trust.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether.redaction import MASK, env_secrets, redact_secrets, scrub
from aether.sir.model import Sir
from aether.store.records import PreparedSir, one_line

CASES = [
    ('key = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"', "openai_key"),
    ("AKIAIOSFODNN7EXAMPL3 is the id", "aws_access_key"),
    ('t = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"', "github_token"),
    ("glpat-abcdefghij0123456789xy", "gitlab_token"),
    ("xoxb-1234567890-abcdefXYZ", "slack_token"),
    ('k = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"', "google_api_key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
     "jwt"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
     "-----END OPENSSH PRIVATE KEY-----", "private_key"),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_known_formats_are_masked(text: str, kind: str) -> None:
    clean, count = redact_secrets(text)
    assert count == 1 and f"[redacted {kind}]" in clean


@pytest.mark.parametrize("text", [
    'password = "hunter2hunter2"', "DB_PASSWORD: 's3cr3t-value'",
    'client_secret="Zk3Lq8Vm2Nx5Rb7"', "postgres://app:Pa55word@db:5432/main",
    'blob = "Q2x5aGVyZV9pc19yYW5kb21fZW5vdWdoXzQ4OTE3MjM1"',
    'digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
])
def test_values_are_masked_and_the_code_around_them_kept(text: str) -> None:
    clean, count = redact_secrets(text)
    assert count == 1 and MASK in clean
    assert clean.split(MASK)[0] == text[:len(clean.split(MASK)[0])]  # the name stays


@pytest.mark.parametrize("text", [
    "def get_user(self, name: str) -> User:", 'token = "Bearer"', 'password = ""',
    'name = "some_long_identifier_name_here_ok"', 'path = "/usr/local/lib/python3.11"',
    "the token budget for each request", 'url = "https://example.com/api/v1/items"',
    'msg = "An error occurred while parsing the configuration file"',
])
def test_ordinary_code_is_left_alone(text: str) -> None:
    assert redact_secrets(text) == (text, 0)


def test_real_code_has_few_false_positives() -> None:
    import json
    source = Path(json.__file__).with_name("decoder.py").read_text()
    assert redact_secrets(source)[1] == 0


def test_known_secrets_are_scrubbed_in_any_case_and_in_pieces(
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-proj-AbCdEfGh12345678IjKlMnOp"
    monkeypatch.setenv("SOME_SERVICE_API_KEY", key)
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-9f8e7d6c5b4a")
    assert key in env_secrets() and "tok-9f8e7d6c5b4a" in env_secrets()
    text = (f"bad key {key.upper()}; halves {key[:14]} / {key[14:]}; "
            "deploy TOK-9F8E7D6C5B4A; short sk-proj")
    clean = scrub(text)
    for piece in (key.upper(), key[:14], key[14:], "TOK-9F8E7D6C5B4A"):
        assert piece not in clean and piece.lower() not in clean.lower()
    assert "short sk-proj" in clean  # fewer than 8 characters of a key are not a key
    assert scrub("nothing to hide") == "nothing to hide"


def test_sirs_are_masked_before_they_are_stored() -> None:
    sir = Sir(intent="Uses key sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c to call.",
              outputs=['returns "AKIAIOSFODNN7EXAMPL3"'], confidence=0.5)
    prepared = PreparedSir.of(sir, redactions=2)
    assert prepared.redactions == 4
    assert "sk-live" not in prepared.sir_json
    assert "akia" not in prepared.intent_terms + prepared.other_terms  # terms are lowercased
    clean = Sir(intent="Adds two numbers.", confidence=0.5)
    assert clean.redacted() == (clean, 0)


def test_untrusted_text_becomes_one_plain_line() -> None:
    text = "**bold** \x1b[31mred\x1b[0m\r\nnext\u202eevil\x00 " + "x" * 500
    line = one_line(text)
    assert "\x1b" not in line and "\u202e" not in line and "\x00" not in line
    assert "\n" not in line and len(line) == 300 and line.startswith("**bold** [31mred")
