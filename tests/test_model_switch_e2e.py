"""Switching provider or model: existing SIRs become stale with `model_changed` (still served,
labelled with their model), are regenerated under the caps, and every version is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeprovider import FakeProvider
from tests.helpers import write
from tests.test_inference_e2e import configure, index_run
from tests.test_spend_e2e import aether, funcs


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(default="ok") as fp:
        yield fp


def test_static_to_openai_regenerates_under_the_caps_with_history(
    tmp_path: Path, fake: FakeProvider
) -> None:
    root = tmp_path / "ws"
    write(root, "a.py", funcs("a", 4))
    configure(root, fake, max_concurrency=1)
    static, _ = index_run(root, "--provider", "static")
    assert static["sir_ok"] == 4 and fake.count == 0

    # the switch, with room for 2 requests only: 2 regenerated, 2 stale and still served
    configure(root, fake, max_concurrency=1, max_tokens_per_run=1)
    index_run(root)
    assert fake.count == 0
    view = json.loads(aether(root, "sir", "a03", "--json"))
    assert view["sir_status"] == "stale" and view["stale_reason"] == "model_changed"
    assert view["provider"] == "static" and view["sir"]["intent"]  # served, labelled
    assert "max_tokens_per_run" in view["warning"]

    configure(root, fake, max_concurrency=1)
    out, _ = index_run(root)
    assert fake.count == 4 and out["sir_ok"] == 4
    view = json.loads(aether(root, "sir", "a03", "--json"))
    assert (view["provider"], view["model"], view["sir_status"]) == ("openai", "fake-1", "ok")
    assert view["prompt_version"] == "sir-prompt-1"

    history = json.loads(aether(root, "sir", "a03", "--history", "--json"))
    assert [(v["provider"], v["current"]) for v in history["versions"]] == [
        ("openai", True), ("static", False)]
    assert "static/static-v1" in aether(root, "sir", "a03", "--history")

    # same provider, another model: stale again, regenerated
    fake.clear()
    configure(root, fake, max_concurrency=1, model="fake-2")
    index_run(root)
    assert fake.count == 4
    assert json.loads(aether(root, "sir", "a03", "--json"))["model"] == "fake-2"
    # the fake answers both models alike: the same SIR is one version in the history
    assert len(json.loads(aether(root, "sir", "a03", "--history", "--json"))["versions"]) == 2

    # nothing changed: nothing is sent
    fake.clear()
    index_run(root)
    assert fake.count == 0
