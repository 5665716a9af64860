"""A model SIR checked against the static facts of its code: pure checks, and end to end
through `aether index` with the fake provider answering what the test chooses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aether.providers.base import SirRequest
from aether.providers.static import StaticProvider
from aether.sir.model import Sir
from aether.sir.verify import adjusted_confidence, verify
from tests.fakeprovider import FakeProvider
from tests.helpers import write
from tests.test_inference_e2e import configure, index_run
from tests.test_spend_e2e import aether

LOAD_TOKEN = '''def load_token(name: str) -> str:
    """Read an API token from the environment."""
    value = os.environ.get(name)
    if value is None:
        raise KeyError(name)
    return value
'''


def static_of(source: str, qname: str = "load_token") -> Sir:
    request = SirRequest("0" * 32, "python", "a.py", "function", qname, source.split("\n")[0],
                         source, "h")
    return asyncio.run(StaticProvider().generate(request))


def sir(**kw: object) -> Sir:
    return Sir.model_validate({"intent": "Reads a token.", "confidence": 0.8, **kw})


def test_flags_a_network_claim_the_code_does_not_make_and_a_missing_raise() -> None:
    facts = static_of(LOAD_TOKEN)
    model = sir(inputs=["name: the variable to read"], side_effects=[
        "sends an HTTP request to the token service", "reads environment variables"],
        error_modes=[], dependencies=["os.environ"])
    v = verify(model, facts, LOAD_TOKEN)
    assert v.unsupported == ["side effect: sends an HTTP request to the token service"]
    assert "side effect: reads environment variables" in v.supported
    assert "input: name: the variable to read" in v.supported
    assert "raises KeyError" in v.missed
    assert adjusted_confidence(0.8, v) < 0.8


def test_a_faithful_sir_is_all_supported() -> None:
    facts = static_of(LOAD_TOKEN)
    model = sir(inputs=["name (str)"], side_effects=["reads the environment (os.environ)"],
                error_modes=["raises KeyError when the variable is unset"],
                dependencies=["os.environ.get"])
    v = verify(model, facts, LOAD_TOKEN)
    assert v.unsupported == [] and v.missed == [] and v.checked == 4
    assert adjusted_confidence(0.8, v) == 0.8


def test_claims_it_cannot_classify_and_unknown_exceptions() -> None:
    facts = static_of(LOAD_TOKEN)
    model = sir(side_effects=["may be slow"], error_modes=["raises TokenExpiredError"],
                inputs=["timeout: seconds to wait"])
    v = verify(model, facts, LOAD_TOKEN)
    assert "error: raises TokenExpiredError" in v.unsupported
    assert "input: timeout: seconds to wait" in v.unsupported
    assert all("may be slow" not in c for c in v.supported + v.unsupported)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(default="ok") as fp:
        yield fp


def answer(**kw: object) -> str:
    return json.dumps({"intent": "Loads a token.", "inputs": ["name"], "outputs": ["str"],
                       "side_effects": [], "dependencies": [], "error_modes": [],
                       "confidence": 0.9, **kw})


def test_index_stores_verification_and_retries_a_contradicting_sir_once(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "tok.py", "import os\n\n\n" + LOAD_TOKEN)
    configure(root, fake)
    # 1 of 3 claims unsupported (below the 0.5 retry share): kept as it is, flagged
    fake.push_answer(answer(side_effects=["makes a network call to the vault",
                                          "reads environment variables"],
                            dependencies=["os.environ"]))
    index_run(root)
    assert fake.count == 1
    view = json.loads(aether(root, "sir", "load_token", "--json"))
    v = view["verification"]
    assert v["unsupported"] == ["side effect: makes a network call to the vault"]
    assert "raises KeyError" in v["missed"] and v["retried"] is False
    assert view["sir"]["confidence"] < 0.9
    assert "1 claim(s) not found in the code" in aether(root, "sir", "load_token")
    status = json.loads(aether(root, "status", "--json"))
    assert status["unverified_count"] == 1

    # every claim contradicts the code: asked once more, with the facts in the prompt
    (root / "tok.py").write_text("import os\n\n\n" + LOAD_TOKEN.replace("name)", "name) ") )
    fake.clear()
    fake.push_answer(answer(side_effects=["writes a cache file", "queries the database"]))
    index_run(root)
    assert fake.count == 2
    retry_prompt = json.dumps(fake.requests()[1].body)
    assert "Facts a parser found" in retry_prompt and "raises KeyError" in retry_prompt
    v = json.loads(aether(root, "sir", "load_token", "--json"))["verification"]
    assert v["retried"] is True


def test_hover_lists_the_claims_not_found_in_the_code() -> None:
    from aether.present.markdown import hover_markdown
    from aether.store.records import SymbolRecord

    verification = {"supported": ["input: name"], "checked": 3, "retried": False,
                    "unsupported": ["side effect: sends an HTTP request", "error: raises *Boom*"],
                    "missed": ["raises KeyError"]}
    record = SymbolRecord(
        "0" * 32, "python", "tok.py", "function", "load_token", "load_token", "def load_token",
        1, 0, 6, 0, 0, 10, "h", "ok", None, None, 0, None,
        sir_json=sir(inputs=["name"]).canonical_json(), sir_hash="s", source_hash="h",
        provider="openai", model="m", prompt_version="sir-prompt-1",
        verification_json=json.dumps(verification))
    text = hover_markdown(record)
    assert "⚠ 2 claims not found in the code: side effect: sends an HTTP request; " in text
    assert "\\*Boom\\*" in text  # model text is escaped
    assert "In the code but not in the summary: raises KeyError" in text
