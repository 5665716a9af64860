"""Open documents whose incremental edits cost in proportion to the edit, not the document.

pygls' TextDocument applies each incremental change by splitting the whole text into lines
and writing every line into a new string: 200 keystrokes in a 12 MB buffer cost tens of
seconds before the next hover is even read. Here the text is kept as a list of lines; an
edit rewrites the lines it touches and splices them in (a pointer move for the rest), the
character count is kept up to date, and the full text is joined only when someone reads it
(a parse, which is skipped anyway for documents above the indexing size limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace


class EditedDocument(TextDocument):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines: list[str] | None = None  # authoritative once the first edit arrives
        self._joined: str | None = None
        self._chars: int | None = None

    @property
    def source(self) -> str:
        if self._lines is None:
            return str(super().source)
        if self._joined is None:
            self._joined = "".join(self._lines)
        return self._joined

    @property
    def lines(self) -> Sequence[str]:
        return self._lines if self._lines is not None else super().lines

    @property
    def char_count(self) -> int:
        """Length of the text in code points (a lower bound of its UTF-8 size), kept
        without joining the text."""
        if self._chars is None:
            self._chars = len(self.source)
        return self._chars

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._lines, self._joined, self._chars = None, None, None
        super()._apply_full_change(change)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial
                                  ) -> None:
        if self._lines is None:
            self._lines = str(super().source).splitlines(True)
            self._chars = sum(map(len, self._lines))
        lines = self._lines
        span = self._position_codec.range_from_client_units(lines, change.range)
        first, last = span.start.line, span.end.line
        if not lines:
            lo, hi, merged = 0, 0, change.text
        else:
            before = lines[first][: span.start.character]
            after = lines[last][span.end.character:] if last < len(lines) else ""
            # one untouched line on each side joins the re-split: a "\r" left at the end
            # of one line and a "\n" at the start of the next are one line break
            lo, hi = max(0, first - 1), min(len(lines), last + 2)
            merged = "".join(lines[lo:first]) + before + change.text + after + "".join(
                lines[last + 1:hi])
        replaced = lines[lo:hi]
        new = merged.splitlines(True)
        lines[lo:hi] = new
        self._chars = (self._chars or 0) - sum(map(len, replaced)) + sum(map(len, new))
        self._joined = None


class EditedWorkspace(Workspace):
    """A pygls Workspace whose documents are EditedDocuments."""

    def _create_text_document(self, doc_uri: str, source: str | None = None,
                              version: int | None = None, language_id: str | None = None
                              ) -> TextDocument:
        return EditedDocument(doc_uri, source=source, version=version,
                              language_id=language_id, sync_kind=self._sync_kind,
                              position_codec=self._position_codec)


def use_edited_documents(workspace: Workspace) -> None:
    """Switch a freshly created pygls Workspace (at `initialize`, before any document is
    opened) to EditedDocuments. pygls builds the Workspace itself and offers no hook for
    the document class; the subclass only overrides the factory method."""
    if type(workspace) is Workspace:
        workspace.__class__ = EditedWorkspace
