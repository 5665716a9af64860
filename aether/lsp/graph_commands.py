"""`aether.impact` (workspace/executeCommand): what uncommitted changes touch, for editors
that have no such view (the VS Code and Neovim front ends list it); and the code-lens refresh
the server asks for when summaries or edges changed."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from aether.engine import graph
from aether.engine.engine import AmbiguousTarget, UnknownTarget

if TYPE_CHECKING:
    from aether.lsp.server import AetherServer

CMD_IMPACT = "aether.impact"


async def impact(ls: AetherServer, args: list[Any]) -> dict[str, Any]:
    """`[]` or `[{"ref": str, "depth": int}]`: the impact of the working tree against `ref`
    (default HEAD), as the `aether_impact` envelope."""
    ref, depth = "HEAD", 2
    if args:
        arg = args[0]
        if len(args) != 1 or not isinstance(arg, dict) or not isinstance(
                arg.get("ref", ref), str) or not isinstance(arg.get("depth", depth), int):
            raise JsonRpcInvalidParams(f'{CMD_IMPACT} takes [] or [{{"ref": str, "depth": int}}]')
        ref, depth = arg.get("ref", ref), arg.get("depth", depth)
    daemon = await ls.live()
    if daemon is None or daemon.engine is None:
        raise JsonRpcInvalidParams(ls.startup_error or "AETHER is not running")
    try:
        view = await graph.impact(daemon.engine, git_ref=ref, depth=depth)
    except (graph.BadArgument, UnknownTarget, AmbiguousTarget) as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    return view.model_dump(mode="json")


def refresh_code_lenses(ls: AetherServer) -> None:
    """Ask the editor to re-request code lenses (their caller counts and SIR states), if it
    says it can."""
    workspace = ls.client_capabilities.workspace
    lens = workspace.code_lens if workspace is not None else None
    if lens is not None and lens.refresh_support and not ls.closing:
        with contextlib.suppress(Exception):  # an editor that cannot is no error of ours
            ls.workspace_code_lens_refresh(None)
