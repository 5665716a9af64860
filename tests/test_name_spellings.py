"""A symbol asked for the way developers write it: Go method expressions, Rust qualified
paths and generics, a call's parentheses, the module or crate in front."""

from __future__ import annotations

from pathlib import Path

import pytest

from aether.engine.engine import UnknownTarget
from aether.symbols.spellings import canonical_spelling, module_prefixes
from tests.helpers import write
from tests.test_engine import open_engine


@pytest.mark.parametrize(("asked", "stored"), [
    ("(*Command).Execute", "Command.Execute"),
    ("(Command).Execute", "Command.Execute"),
    ("(*cobra.Command).Execute", "cobra.Command.Execute"),
    ("(*List[T]).Push", "List.Push"),
    ("<Value as Deserialize>::deserialize", "Value::deserialize"),
    ("<Value as serde::Deserialize<'de>>::deserialize", "Value::deserialize"),
    ("<Value>::as_str", "Value::as_str"),
    ("Map<String, Vec<u8>>::insert", "Map::insert"),
    ("Vec::<u8>::new", "Vec::new"),
    ("Command.Execute()", "Command.Execute"),
    ("Camera.zoom(to:animated:)", "Camera.zoom"),
    ("Cache::operator<", "Cache::operator<"),  # the brackets are the name
    ("Cache::operator()", "Cache::operator()"),
    ("Session.send", "Session.send"),
    ("Layer.prototype.match", "Layer.match"),
    ("Layer.prototype", "Layer.prototype"),  # the prototype object itself: no method named
])
def test_canonical_spelling(asked: str, stored: str) -> None:
    assert canonical_spelling(asked) == stored


def test_module_prefixes_stop_at_a_type() -> None:
    assert module_prefixes("cobra.Command.Execute") == [(["cobra"], "Command.Execute")]
    assert module_prefixes("crate.de.from_str") == [(["crate"], "de.from_str"),
                                                    (["crate", "de"], "from_str")]
    assert module_prefixes("Nope.from_str") == []


FILES = {
    "command.go": """
        package cobra

        type Command struct{ Use string }

        func (c *Command) Execute() error { return c.execute() }

        func (c *Command) execute() error { return nil }
        """,
    "src/de.rs": """
        pub struct Value;
        pub trait Deserialize { fn deserialize() -> Self; }
        impl Deserialize for Value { fn deserialize() -> Self { Value } }
        pub fn from_str(s: &str) -> Value { Value }
        """,
    "src/ser.rs": "pub fn from_str(s: &str) -> u8 { 0 }\n",
    "requests/sessions.py": """
        class Session:
            def send(self, request):
                return request
        """,
}


async def test_lookup_accepts_each_languages_spelling(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    for rel, text in FILES.items():
        write(root, rel, text)
    engine = await open_engine(root)
    try:
        await engine.index()
        for asked, stored, path in (
                ("(*Command).Execute", "Command.Execute", "command.go"),
                ("(*cobra.Command).Execute", "Command.Execute", "command.go"),
                ("cobra.Command.Execute", "Command.Execute", "command.go"),
                ("Command.Execute()", "Command.Execute", "command.go"),
                ("Execute()", "Command.Execute", "command.go"),
                ("<Value as Deserialize>::deserialize", "Value.deserialize", "src/de.rs"),
                # two `from_str`: the one whose path names the module asked for
                ("crate::de::from_str", "from_str", "src/de.rs"),
                ("de::from_str", "from_str", "src/de.rs"),
                ("ser::from_str", "from_str", "src/ser.rs"),
                ("requests.sessions.Session.send", "Session.send", "requests/sessions.py"),
                ("requests.Session.send", "Session.send", "requests/sessions.py")):
            rec = await engine.resolve(asked)
            assert (rec.qualified_name, rec.file_path) == (stored, path), asked
        # a type in front is not a module: no guess
        for asked in ("Nope.Execute", "Command.Nope", "(*Nope).Execute", "Nope::from_str"):
            with pytest.raises(UnknownTarget):
                await engine.resolve(asked)
    finally:
        await engine.close()


def test_a_name_query_is_rewritten_and_a_question_is_not() -> None:
    from aether.symbols.spellings import name_query
    assert name_query("(*Command).Execute") == "Command.Execute"
    assert name_query("<Value as Deserialize>::deserialize") == "Value::deserialize"
    assert name_query("Map<String, Value>::insert") == "Map::insert"
    assert name_query("Command.Execute()") == "Command.Execute"
    # words outside the brackets: a question, left alone
    assert name_query("how does (roughly) Execute work") == "how does (roughly) Execute work"
    assert name_query("parse config (yaml)") == "parse config (yaml)"
