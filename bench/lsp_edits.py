"""Incremental edits to a large open buffer: AETHER's EditedDocument vs pygls' TextDocument.

    python bench/lsp_edits.py [--mb 12] [--edits 200]

Applies the same one-keystroke incremental changes (spread through the buffer) to both
document classes and prints the time per edit of each and the ratio. The baseline is pygls'
own implementation, measured in the same process.
"""

from __future__ import annotations

import argparse
import time

from lsprotocol import types
from pygls.workspace import TextDocument

from aether.lsp.documents import EditedDocument


def run(cls: type[TextDocument], text: str, edits: int, lines: int) -> float:
    doc = cls("file:///bench.py", text, version=1)
    started = time.perf_counter()
    for i in range(edits):
        line = (i * 7919) % lines
        doc.apply_change(types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line, character=0)),
            text="x"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=12.0)
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    line = "value = compute(1, 2, 3)  # a line\n"
    lines = int(args.mb * 1024 * 1024 / len(line))
    text = line * lines
    ours = run(EditedDocument, text, args.edits, lines)
    base = run(TextDocument, text, args.edits, lines)
    print(f"buffer      {len(text) / 1e6:.1f} MB, {lines:,} lines, {args.edits} edits")
    print(f"pygls       {base / args.edits * 1000:9.2f} ms per edit  (baseline)")
    print(f"aether      {ours / args.edits * 1000:9.2f} ms per edit")
    print(f"ratio       {base / max(ours, 1e-9):9.0f}x faster")


if __name__ == "__main__":
    main()
