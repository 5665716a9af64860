"""Reading and merging one MCP client configuration file without losing anything in it.

JSON files are re-rendered (two-space indent, key order kept); a JSON-with-comments file
(VS Code, Zed) is parsed with its comments and trailing commas, but is never rewritten when
it has comments, since re-rendering would drop them: the caller is told what to paste
instead. TOML goes through tomlkit, which keeps comments and layout. Malformed input is a
`SetupError` and the file is left as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aether.agents.clients import Format

if TYPE_CHECKING:
    import tomlkit

SERVER_NAME = "aether"
_CLOSER = re.compile(r"\s*[}\]]")


class SetupError(Exception):
    """A configuration file that cannot be read or safely changed (one line, for a user)."""


def _scan(text: str, on_code: Callable[[str, int], int | None]) -> str:
    """Copy `text`, letting `on_code(text, i)` skip code outside strings: it returns the
    index to continue from (dropping what lies between), or None to keep the character."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        skip = on_code(text, i)
        if skip is None:
            out.append(text[i])
            i += 1
        else:
            out.append(" ")
            i = skip
    return "".join(out)


def strip_jsonc(text: str) -> tuple[str, bool]:
    """`text` without // and /* */ comments and trailing commas (strings left alone), and
    whether it had any comment."""
    comments = [0]

    def comment(t: str, i: int) -> int | None:
        if t.startswith("//", i):
            comments[0] += 1
            end = t.find("\n", i)
            return len(t) if end < 0 else end
        if t.startswith("/*", i):
            comments[0] += 1
            end = t.find("*/", i + 2)
            return len(t) if end < 0 else end + 2
        return None

    def trailing_comma(t: str, i: int) -> int | None:
        if t[i] == "," and _CLOSER.match(t, i + 1):
            return i + 1
        return None

    plain = _scan(text, comment)
    return _scan(plain, trailing_comma), comments[0] > 0


def _line_of(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"


class ConfigDoc:
    """One parsed configuration file and the `aether` entry in it."""

    def __init__(self, text: str, fmt: Format, key: str, where: str) -> None:
        self.fmt, self.key, self.where = fmt, key, where
        self.had_comments = False
        self._toml: tomlkit.TOMLDocument | None = None
        self._json: dict[str, Any] = {}
        if fmt == "toml":
            # imported here: every `aether` command builds the parser that reaches this
            # module, and the daemons would keep tomlkit (~0.8 MB) loaded for nothing
            import tomlkit.exceptions

            try:
                self._toml = tomlkit.parse(text)
            except tomlkit.exceptions.ParseError as exc:
                raise SetupError(f"{where} is not valid TOML ({exc}); "
                                      "fix or move it, it was left unchanged") from None
            servers = self._toml.get(key)
            if servers is not None and not isinstance(servers, dict):
                raise SetupError(f"`{key}` in {where} is not a table; it was left unchanged")
            return
        body = text
        if fmt == "jsonc":
            body, self.had_comments = strip_jsonc(text)
        if body.strip():
            try:
                data = json.loads(body)
            except json.JSONDecodeError as exc:
                raise SetupError(f"{where} is not valid JSON ({_line_of(exc)}); "
                                      "fix or move it, it was left unchanged") from None
            if not isinstance(data, dict):
                raise SetupError(f"{where} does not hold a JSON object; it was left "
                                      "unchanged")
            self._json = data
        servers = self._json.get(key)
        if servers is not None and not isinstance(servers, dict):
            raise SetupError(f"`{key}` in {where} is not an object; it was left unchanged")

    def servers(self) -> dict[str, Any]:
        """Every configured server by name (plain values)."""
        if self._toml is not None:
            table = self._toml.get(self.key)
            return {} if table is None else dict(table.unwrap())
        return dict(self._json.get(self.key) or {})

    def entry(self) -> dict[str, Any] | None:
        found = self.servers().get(SERVER_NAME)
        return found if isinstance(found, dict) else None

    def set_entry(self, wanted: dict[str, Any]) -> bool:
        """Make the `aether` entry carry `wanted` (keys the user added to it are kept);
        whether anything changed."""
        current = self.entry() or {}
        merged = {**current, **wanted}
        if current == merged and self.entry() is not None:
            return False
        if self._toml is not None:
            import tomlkit

            servers = self._toml.get(self.key)
            if servers is None:
                servers = tomlkit.table(is_super_table=True)
                self._toml[self.key] = servers
            table = servers.get(SERVER_NAME)
            if not isinstance(table, dict):
                table = tomlkit.table()
                servers[SERVER_NAME] = table
            for k, v in wanted.items():
                table[k] = v
            return True
        servers_json = self._json.setdefault(self.key, {})
        servers_json[SERVER_NAME] = merged
        return True

    def render(self) -> str:
        if self._toml is not None:
            import tomlkit

            return tomlkit.dumps(self._toml)
        return json.dumps(self._json, indent=2, ensure_ascii=False) + "\n"


def entry_text(fmt: Format, key: str, wanted: dict[str, Any]) -> str:
    """The entry as a user would paste it into that kind of file."""
    if fmt == "toml":
        import tomlkit

        doc = tomlkit.document()
        servers = tomlkit.table(is_super_table=True)
        servers[SERVER_NAME] = wanted
        doc[key] = servers
        return tomlkit.dumps(doc)
    return json.dumps({key: {SERVER_NAME: wanted}}, indent=2)
