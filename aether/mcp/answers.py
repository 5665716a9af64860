"""How every AETHER MCP tool answers an agent: compact, sized, paged. A model pays for each
token it reads, so answers are built for that reader:

- `detail: "brief" | "full"` (`Detail`): list tools default to "brief" (names, locations,
  status, one-line intent); "full" adds what `brief_exclude` names (signature, whole SIR,
  errors). Single-symbol tools default to "full".
- `size_tokens` on every answer: an estimate of the answer's size in tokens
  (`estimate_tokens`), so an agent can budget before asking for more.
- `cursor` paging (`Cursor`, `page`): a list longer than `limit` is never silently cut; the
  answer carries `next_cursor`, which the agent passes back as `cursor` for the next page. A
  cursor is bound to the arguments it came from (a fingerprint), so it cannot be replayed
  against another query.
- `answer(view)`: the tool result itself: the view as structured content and as compact JSON
  text (the SDK's default text is indented JSON, ~30% larger for the same facts).

A new tool adopts all of it in three lines: take `detail: Detail = "brief"` and
`cursor: Cursor = None`, slice with `page(...)`, and return `answer(view, detail=detail)`
from a function annotated `-> Annotated[CallToolResult, TheView]` (which keeps the view's
outputSchema)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

T = TypeVar("T")

# Code and JSON tokenize at roughly 3 to 4 characters a token in current model tokenizers;
# 3.5 errs on the side of telling an agent an answer is bigger than it is.
CHARS_PER_TOKEN = 3.5

Detail = Annotated[Literal["brief", "full"], Field(
    description="full adds signatures, whole SIRs, bookkeeping")]
Cursor = Annotated[str | None, Field(
    default=None, max_length=200, description="next_cursor of the previous page")]

INT32_MAX = 2**31 - 1
# Arguments every list or symbol tool shares, explained once in `instructions.py` rather
# than in each tool's schema: the paging pair and the symbol locator.
SHARED_PARAMETERS = ("detail", "cursor", "symbol_id", "qualified_name", "file", "line")

# Fields a brief answer leaves out, wherever they appear (they are optional in every view).
BRIEF_EXCLUDE = frozenset({"signature", "sir", "sir_hash", "provider", "model",
                           "last_error", "last_attempt_at", "updated_at"})


class Sized(BaseModel):
    """Mixed into every MCP answer model (`class SearchAnswer(SearchView, Sized)`)."""

    size_tokens: int = Field(default=0, description="Estimated size of this answer in tokens")


class Paged(Sized):
    """Mixed into every MCP answer that is a list."""

    next_cursor: str | None = Field(
        default=None, description="More results exist: pass this as `cursor` to get them")


def estimate_tokens(text: str) -> int:
    """An estimate of `text`'s size in model tokens."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def fingerprint(args: Mapping[str, Any]) -> str:
    """What a cursor is bound to: the arguments that decide which list is paged."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=6).hexdigest()


def encode_cursor(offset: int, args: Mapping[str, Any]) -> str:
    raw = f"{offset}.{fingerprint(args)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, args: Mapping[str, Any]) -> int:
    """The offset a cursor stands for (0 without one); a cursor from other arguments, or
    not a cursor at all, is a tool error."""
    if cursor is None or not cursor.strip():
        return 0
    try:
        padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
        offset_text, _, fp = base64.urlsafe_b64decode(padded).decode().partition(".")
        offset = int(offset_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ToolError("cursor is not one AETHER returned; call again without it") from None
    if fp != fingerprint(args) or offset < 0:
        raise ToolError("cursor belongs to a different request; pass the same arguments as "
                        "the call that returned it, or call again without it")
    return offset


def page(items: Sequence[T], offset: int, limit: int,
         args: Mapping[str, Any]) -> tuple[list[T], str | None]:
    """Items [offset, offset + limit) of `items`, and the cursor for the rest (None at the
    end). `items` may hold just one item past the page: that is enough to know more exist."""
    window = list(items[offset:offset + limit])
    more = len(items) > offset + limit
    return window, encode_cursor(offset + limit, args) if more else None


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, spec in b.items():
        if key not in out or spec is True or out[key] is True:
            out[key] = True if True in (spec, out.get(key)) else spec
        else:
            out[key] = _merge(out[key], spec)
    return out


def _exclusions(view: BaseModel, names: frozenset[str]) -> dict[str, Any]:
    """A pydantic `exclude` spec that drops `names` at every level of `view` (only fields
    with a default: the answer must still validate against the view's schema)."""
    spec: dict[str, Any] = {}
    fields = type(view).model_fields
    for field, value in view:
        if field in names and not fields[field].is_required():
            spec[field] = True
        elif isinstance(value, BaseModel):
            inner = _exclusions(value, names)
            if inner:
                spec[field] = inner
        elif isinstance(value, list):
            merged: dict[str, Any] = {}
            for item in value:  # every item: nested children differ from one to the next
                if isinstance(item, BaseModel):
                    merged = _merge(merged, _exclusions(item, names))
            if merged:
                spec[field] = {"__all__": merged}
    return spec


def answer(view: BaseModel, *, detail: Literal["brief", "full"] = "full",
           brief_exclude: frozenset[str] = BRIEF_EXCLUDE) -> CallToolResult:
    """The tool result for `view`: structured content plus the same as compact JSON text,
    with `size_tokens` filled in; "brief" leaves out `brief_exclude`."""
    exclude = _exclusions(view, brief_exclude) if detail == "brief" else None
    data = view.model_dump(mode="json", by_alias=True, exclude=exclude)
    data["size_tokens"] = 0
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # The figure is part of the answer it measures; its own few digits are noise.
    data["size_tokens"] = estimate_tokens(text)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=data)


def compact_schema(node: Any, *, descriptions: bool = True, nullable: bool = True) -> Any:
    """The same JSON Schema with less to read: no generated `title`s, `anyOf [X, null]` as
    `type: [x, "null"]`, no `default: null`, no `maxLength`, `maxItems` or int32 `maximum`
    (still enforced by the tool's arguments model). `descriptions=False` drops descriptions
    too (for output schemas, which clients validate and models rarely read);
    `nullable=False` shows an optional `X | None` argument as plain `X` (leaving it out
    means None)."""
    if isinstance(node, list):
        return [compact_schema(n, descriptions=descriptions, nullable=nullable) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "description" and not descriptions and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        # Length caps and int32 bounds tell a model nothing it would act on; the arguments
        # model still enforces them.
        if key in ("maxLength", "maxItems") or (key == "maximum" and value == INT32_MAX):
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, descriptions=descriptions, nullable=nullable)
                        for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, descriptions=descriptions, nullable=nullable)
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = options[0] if options[1] == {"type": "null"} else options[1]
        # An enum or const would have to list null too; those keep their anyOf.
        if (isinstance(other, dict) and isinstance(other.get("type"), str)
                and "enum" not in other and "const" not in other):
            del out["anyOf"]
            out = {**other, **out, "type": [other["type"], "null"] if nullable else other["type"]}
    return out


def compact_tool_schemas(server: Any) -> None:
    """Compact every registered tool's input and output schema in place (call once, after
    all tools are registered): the whole `tools/list` is read by the model on every turn."""
    for tool in server._tool_manager.list_tools():
        # Docstrings arrive with their source indentation; a model pays for every space.
        tool.description = " ".join(tool.description.split())
        tool.parameters = compact_schema(tool.parameters, nullable=False)
        for name in SHARED_PARAMETERS:  # the server's instructions explain these once
            tool.parameters.get("properties", {}).get(name, {}).pop("description", None)
        meta = tool.fn_metadata
        if meta.output_schema is not None:
            meta.output_schema = compact_schema(meta.output_schema, descriptions=False)
