"""The answer conventions as pure functions: cursors, pages, schema compaction, sizes."""

from __future__ import annotations

import json

import pytest
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from aether.engine.daemon import DaemonStatus
from aether.mcp.answers import (
    Paged,
    answer,
    compact_schema,
    decode_cursor,
    estimate_tokens,
    page,
)
from aether.mcp.app import indexing_hint

BOUND = {"tool": "search", "query": "x"}


def test_pages_cover_everything_once() -> None:
    items = list(range(10))
    seen: list[int] = []
    offset = 0
    for _ in range(10):
        window, cursor = page(items, offset, 4, BOUND)
        seen += window
        if cursor is None:
            break
        offset = decode_cursor(cursor, BOUND)
    assert seen == items
    assert page(items, 0, 10, BOUND)[1] is None  # exactly one full page: no cursor
    assert page(items[:5], 0, 4, BOUND)[1] is not None  # one past the page: there is more


def test_cursors_are_bound_and_checked() -> None:
    _, cursor = page(list(range(5)), 0, 2, BOUND)
    assert cursor is not None and decode_cursor(cursor, BOUND) == 2
    assert decode_cursor(None, BOUND) == 0
    with pytest.raises(ToolError, match="different request"):
        decode_cursor(cursor, {**BOUND, "query": "y"})
    for bad in ("%%%", "bm90IGEgY3Vyc29y", "LTEuYWJj"):
        with pytest.raises(ToolError):
            decode_cursor(bad, BOUND)


def test_compact_schema_keeps_meaning() -> None:
    schema = {"title": "Args", "type": "object", "properties": {
        "title": {"title": "Title", "type": "string"},  # a property named title survives
        "n": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "default": None,
              "description": "how many"},
        "mode": {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}]}}}
    out = compact_schema(schema)
    assert out == {"type": "object", "properties": {
        "title": {"type": "string"},
        "n": {"type": ["integer", "null"], "minimum": 1, "description": "how many"},
        "mode": {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}]}}}
    assert "description" not in json.dumps(compact_schema(schema, descriptions=False))


class Item(BaseModel):
    name: str
    sir: dict[str, str] | None = None


class Listing(Paged):
    items: list[Item]


def test_answer_is_compact_sized_and_brief_drops_optional_fields() -> None:
    view = Listing(items=[Item(name="a", sir={"intent": "x"})])
    full, brief = answer(view, detail="full"), answer(view, detail="brief",
                                                      brief_exclude=frozenset({"sir", "name"}))
    assert full.structured_content is not None and brief.structured_content is not None
    assert full.structured_content["items"] == [{"name": "a", "sir": {"intent": "x"}}]
    assert brief.structured_content["items"] == [{"name": "a"}]  # required `name` stays
    text = full.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == full.structured_content and " " not in text
    assert abs(full.structured_content["size_tokens"] - estimate_tokens(text)) <= 1


def test_the_indexing_hint_says_scanning_until_the_pass_has_counted_its_files() -> None:
    assert "scanning the workspace" in indexing_hint(DaemonStatus(state="indexing"))
    assert "0/0" not in indexing_hint(DaemonStatus(state="starting"))
    counted = indexing_hint(DaemonStatus(state="indexing", files_done=3, files_total=40))
    assert "3/40 files" in counted
    assert indexing_hint(DaemonStatus(state="idle")) == ""
