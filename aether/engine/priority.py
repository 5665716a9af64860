"""What to spend on first when the spend caps are tight.

Symbols someone asked for (hover, get_sir, explain, refresh) go through `Engine.refresh`,
which bulk passes yield to. The bulk queue itself runs public symbols of product code first,
then private ones, then tests and generated code, each group in the store's order (pending
before stale, fewest failed attempts first). Callers count would be a better signal than
visibility once the call graph exists; until then, exported/public first.
"""

from __future__ import annotations

from collections.abc import Sequence

from aether.symbols.file_roles import file_role


def is_test_or_generated(path: str) -> bool:
    """Tests, examples, vendored and generated code: the roles search also ranks last."""
    return file_role(path) != "product"


def is_private(qualified_name: str) -> bool:
    """Any segment of the name starting with `_` (but not a dunder such as `__init__`)."""
    return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
               for part in qualified_name.split("."))


def rank(queue: Sequence[tuple[str, str, str]]) -> list[str]:
    """(symbol id, file path, qualified name) in store order -> ids in spending order."""
    keyed = sorted(range(len(queue)), key=lambda i: (
        is_test_or_generated(queue[i][1]), is_private(queue[i][2]), i))
    return [queue[i][0] for i in keyed]
