"""One workspace, two real daemons: an editor's `aether lsp` and an agent's `aether mcp`,
each driven by its own client, against the fault-injecting provider. One of them is the
writer; the provider sees one request per changed symbol; when the writer dies the other
takes over and finishes the queue."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

from tests.fakeprovider import FakeProvider
from tests.helpers import write
from tests.test_lsp import REPO, Session, _stop, eventually
from tests.test_mcp import configure_openai, connect, ok

_QNAME = re.compile(r"Qualified name: ([^\s\\\"]+)")  # over JSON text: stop at an escape


@contextlib.asynccontextmanager
async def editor_session(root: Path) -> AsyncIterator[Session]:
    """Like tests.test_lsp.lsp, minus the clean-exit check: this test kills the server."""
    client = make_test_lsp_client()
    session = Session(client, root)

    @client.feature("aether/status")
    def _status(ls: Any, params: Any) -> None:
        session.statuses.append(params._asdict() if hasattr(params, "_asdict") else params)

    await client.start_io(sys.executable, "-m", "aether", "lsp",
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(REPO))
    try:
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri()))
        yield session
    finally:
        await _stop(client)


def asked(fake: FakeProvider) -> Counter[str]:
    """Requests per symbol, as the provider saw them."""
    out: Counter[str] = Counter()
    for r in fake.requests():
        m = _QNAME.search(json.dumps(r.body))
        if m:
            out[m.group(1)] += 1
    return out


async def test_one_writer_one_request_per_symbol_and_takeover(workspace: Path) -> None:
    with FakeProvider(default="ok") as fake:
        configure_openai(workspace, fake, max_concurrency=2)
        async with editor_session(workspace) as editor:
            await editor.idle()
            assert dict(asked(fake)) == {"Session": 1, "Session.__init__": 1,
                                         "Session.send": 1, "load_token": 1}
            async with connect(workspace) as agent:
                status = await ok(agent, "aether_status")
                assert status["daemon"]["role"] == "reader"
                assert editor.client._server is not None
                assert status["writer"]["pid"] == editor.client._server.pid

                # an edit on disk: the writer re-indexes it; the reader never calls out
                path = workspace / "pkg/session.py"
                path.write_text(path.read_text().replace("raise KeyError(name)", "return ''"))
                await eventually(lambda: asked(fake)["load_token"] == 2)

                # the agent asks for the symbol the editor refreshed (the answer is written a
                # moment after the provider sees the request): it reads it, never calls out
                async def refreshed() -> bool:
                    sir = await ok(agent, "aether_get_sir", {"qualified_name": "load_token"})
                    return bool(sir["sir_status"] == "ok")

                await eventually(refreshed)
                assert asked(fake)["load_token"] == 2

                # queue work, then kill the writer in the middle of it
                fake.set_default("ok:0.4")
                write(workspace, "pkg/queue.py",
                      "".join(f"def job_{i}(x):\n    return x * {i}\n\n" for i in range(8)))
                await eventually(lambda: sum(asked(fake)[f"job_{i}"] for i in range(8)) >= 1)
                assert editor.client._server is not None
                editor.client._server.kill()
                await editor.client._server.wait()

                async def all_done() -> bool:
                    for i in range(8):
                        got = await ok(agent, "aether_get_sir", {"qualified_name": f"job_{i}"})
                        if got["sir_status"] != "ok":
                            return False
                    return True

                await eventually(all_done, 60)
                status = await ok(agent, "aether_status")
                assert status["daemon"]["role"] == "writer"
                counts = asked(fake)
                # at most the requests in flight when the writer died are asked twice
                assert all(counts[f"job_{i}"] in (1, 2) for i in range(8))
                assert sum(counts[f"job_{i}"] for i in range(8)) <= 8 + 2
                # nothing that was done before the kill was asked again
                assert counts["Session"] == counts["Session.send"] == 1
                assert counts["load_token"] == 2
