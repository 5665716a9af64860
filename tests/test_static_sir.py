"""The static analyser and StaticProvider: SIR content per language, from real-looking code."""

from __future__ import annotations

import importlib._bootstrap
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from aether.providers.base import Provider, SirRequest
from aether.providers.static import StaticProvider, python_snippet
from aether.sir.model import Sir
from aether.sir.static import analyze_with_sirs
from aether.sir.static_text import first_sentence, intent_from_name
from aether.symbols.extract import analyze_source

PY = b'''\
import json
import logging
import os
import subprocess as sp
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)
_CACHE: dict[str, dict] = {}


def parse_config_file(path: str, timeout=30) -> dict:
    with open(path) as fh:
        data = json.load(fh)
    if "name" not in data:
        raise ValueError(f"{path}: no name")
    _CACHE[path] = data
    return data


def save_report(report, target: Path):
    """Write the report as JSON next to the sources.

    The file is replaced atomically.
    """
    with open(target, "w") as fh:
        json.dump(report, fh)
    print("saved", target)


def iter_lines(path):
    for line in Path(path).read_text().splitlines():
        yield line.strip()


def build(cmd):
    try:
        return sp.run(cmd, check=True, env={"HOME": os.environ["HOME"]})
    except (sp.CalledProcessError, OSError) as exc:
        log.error("build failed: %s", exc)
        raise


class Client:
    """HTTP client for the inventory API. Not thread-safe."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token or os.getenv("INVENTORY_TOKEN")

    def fetch(self, route):
        response = httpx.get(self.base_url + route, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self):
        global _CACHE
        _CACHE = {}


@dataclass
class Item:
    name: str
    count: int = 0
'''

TS = b'''\
import { readFileSync } from "node:fs";
import axios from "axios";
import * as cp from "child_process";

/**
 * Loads the user profile from the API.
 * @param id the user id
 */
export async function loadProfile(id: string, retries = 3): Promise<Profile> {
  const res = await fetch(`/api/users/${id}`);
  if (!res.ok) {
    throw new HttpError(res.status);
  }
  return res.json();
}

export const parseConfigFile = (path: string) => JSON.parse(readFileSync(path, "utf8"));

export function runAll(cmds) {
  const results = cmds.map((c) => { return cp.execSync(c).toString(); });
  try {
    axios.post("/log", { n: results.length });
  } catch (err) {
    console.error(err);
  }
  return process.env.CI ? results : [];
}

function* walk(node) {
  yield node;
}
'''

RUST = b'''\
use std::fs;
use std::process::Command;

/// A key-value store backed by a file.
///
/// Values are kept in memory until `flush`.
pub struct Store {
    pub path: PathBuf,
    items: HashMap<String, String>,
}

impl Store {
    /// Opens the store at `path`.
    pub fn open(path: &Path) -> Result<Self, io::Error> {
        let text = fs::read_to_string(path)?;
        let items = parse(&text).unwrap();
        Ok(Store { path: path.to_path_buf(), items })
    }

    fn run_hook(&self, name: &str) {
        let out = Command::new(name).arg("--quiet").output().expect("hook failed");
        println!("{:?}", out.status);
        if !out.status.success() {
            panic!("hook {} failed", name);
        }
        let _home = std::env::var("HOME");
    }
}
'''

GO = b'''\
package server

import (
\t"errors"
\t"fmt"
\t"net/http"
\t"os"
\t"os/exec"
)

var started int

// Server serves the inventory API over HTTP.
type Server struct {
\tAddr string `json:"addr"`
\tRoot string
}

// Start listens on the configured address. It blocks.
func (s *Server) Start(port int, opts ...Option) (int, error) {
\tif s.Addr == "" {
\t\treturn 0, errors.New("no address")
\t}
\tstarted++
\tgo func() { fmt.Println("listening") }()
\tif err := http.ListenAndServe(s.Addr, nil); err != nil {
\t\treturn 0, err
\t}
\treturn port, nil
}

func mustBuild(dir string) []byte {
\tout, err := exec.Command("go", "build", dir).Output()
\tif err != nil {
\t\tpanic(err)
\t}
\t_ = os.Getenv("GOFLAGS")
\treturn out
}
'''


def sirs(path: str, language: str, source: bytes) -> dict[str, dict[str, Any]]:
    analysis, static = analyze_with_sirs(path, language, source)
    assert set(static) == {s.id for s in analysis.symbols}
    by_name = {s.qualified_name: static[s.id] for s in analysis.symbols}
    for data in by_name.values():
        Sir.model_validate(data)  # every one is a valid SIR as it stands
    return by_name


@pytest.fixture(scope="module")
def py() -> dict[str, dict[str, Any]]:
    return sirs("app/config.py", "python", PY)


# -- Python -----------------------------------------------------------------------------------

def test_python_intent_from_docstring_first_sentence(py: dict[str, dict[str, Any]]) -> None:
    assert py["save_report"]["intent"] == "Write the report as JSON next to the sources."
    assert py["Client"]["intent"] == "HTTP client for the inventory API."


def test_python_intent_from_name_when_undocumented(py: dict[str, dict[str, Any]]) -> None:
    assert py["parse_config_file"]["intent"] == "Parse config file."
    assert py["Client.fetch"]["intent"] == "Fetch (method of Client)."
    assert py["Client.__init__"]["intent"] == "Initialise a new Client."
    assert py["Item"]["intent"] == "Defines class Item."


def test_python_inputs_and_outputs(py: dict[str, dict[str, Any]]) -> None:
    assert py["parse_config_file"]["inputs"] == ["path: str", "timeout=30"]
    assert py["parse_config_file"]["outputs"] == ["dict"]
    assert py["Client.fetch"]["inputs"] == ["route"]  # self left out
    assert py["Client.fetch"]["outputs"] == ["returns response.json()"]
    assert py["iter_lines"]["outputs"] == ["yields line.strip()"]
    assert py["save_report"]["outputs"] == []  # no return at all
    assert py["Client"]["inputs"] == ["base_url: str", "token: str | None = None"]
    assert py["Item"]["inputs"] == ["name: str", "count: int = 0"]  # dataclass fields


def test_python_side_effects(py: dict[str, dict[str, Any]]) -> None:
    assert py["parse_config_file"]["side_effects"] == [
        "mutates module state (_CACHE)", "reads files (json.load, open)"]
    assert py["save_report"]["side_effects"] == [
        "writes files (json.dump, open)", "writes to stdout (print)"]
    assert "reads files (Path.read_text)" not in py["iter_lines"]["side_effects"]
    assert py["iter_lines"]["side_effects"] == ["reads files (pathlib.Path.read_text)"]
    assert py["build"]["side_effects"] == [
        "logs (log.error)", "reads environment (os.environ)", "spawns processes (subprocess.run)"]
    assert py["Client.fetch"]["side_effects"] == ["network I/O (httpx.get)"]
    assert py["Client.reset"]["side_effects"] == ["mutates global state (global _CACHE)"]


def test_python_dependencies_and_imports(py: dict[str, dict[str, Any]]) -> None:
    assert py["parse_config_file"]["dependencies"] == ["json.load", "json"]
    assert py["build"]["dependencies"] == ["sp.run", "log.error", "subprocess"]  # in order
    assert py["Client.fetch"]["dependencies"] == [
        "httpx.get", "response.raise_for_status", "response.json", "httpx"]


def test_python_error_modes(py: dict[str, dict[str, Any]]) -> None:
    assert py["parse_config_file"]["error_modes"] == ["raises ValueError"]
    assert py["build"]["error_modes"] == [
        "catches OSError", "catches sp.CalledProcessError", "re-raises the current exception"]


def test_python_class_gets_the_union_of_its_methods(py: dict[str, dict[str, Any]]) -> None:
    client = py["Client"]
    assert client["side_effects"] == [
        "mutates global state (global _CACHE)", "network I/O (httpx.get)",
        "reads environment (os.getenv)"]
    assert {"httpx.get", "os.getenv", "httpx", "os"} <= set(client["dependencies"])


def test_python_confidence_is_honest(py: dict[str, dict[str, Any]]) -> None:
    documented = py["save_report"]["confidence"]
    undocumented = py["Client.fetch"]["confidence"]
    typed_undocumented = py["parse_config_file"]["confidence"]
    assert undocumented < typed_undocumented < documented <= 0.7
    assert undocumented == 0.3
    assert all(0 < s["confidence"] <= 0.7 for s in py.values())


def test_static_sirs_are_plain_and_deterministic() -> None:
    # py-tree-sitter hands captures over in an order that changes from run to run; a big
    # real module makes that visible, and the SIRs (lists included) must not change with it
    source = Path(importlib._bootstrap.__file__).read_bytes()
    runs = {json.dumps(analyze_with_sirs("b.py", "python", source)[1]) for _ in range(6)}
    assert len(runs) == 1
    first = analyze_with_sirs("app/config.py", "python", PY)
    assert pickle.loads(pickle.dumps(first)) == first  # crosses a process boundary
    assert analyze_source("app/config.py", "python", PY) == first[0]


def test_python_syntax_error_lowers_confidence() -> None:
    source = b'def load(path):\n    """Load it."""\n    return open(path).read(\n'
    (sir,) = sirs("broken.py", "python", source).values()
    assert sir["intent"] == "Load it."
    assert sir["confidence"] < 0.55


# -- TypeScript -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ts() -> dict[str, dict[str, Any]]:
    return sirs("src/api.ts", "typescript", TS)


def test_ts_jsdoc_intent_and_types(ts: dict[str, dict[str, Any]]) -> None:
    profile = ts["loadProfile"]
    assert profile["intent"] == "Loads the user profile from the API."
    assert profile["inputs"] == ["id: string", "retries = 3"]
    assert profile["outputs"] == ["Promise<Profile>"]
    assert profile["side_effects"] == ["network I/O (fetch)"]
    assert profile["error_modes"] == ["throws HttpError"]
    assert profile["confidence"] == 0.6


def test_ts_camel_case_name_and_expression_body(ts: dict[str, dict[str, Any]]) -> None:
    parse = ts["parseConfigFile"]
    assert parse["intent"] == "Parse config file."
    assert parse["outputs"] == ["returns JSON.parse(readFileSync(path, \"utf8\"))"]
    assert parse["side_effects"] == ["reads files (fs.readFileSync)"]
    assert parse["dependencies"] == ["readFileSync", "node:fs"]


def test_ts_callback_returns_are_not_the_functions(ts: dict[str, dict[str, Any]]) -> None:
    run = ts["runAll"]
    assert run["outputs"] == ["returns process.env.CI ? results : []"]
    assert run["side_effects"] == [
        "network I/O (axios.post)", "reads environment (process.env)",
        "spawns processes (child_process.execSync)", "writes to stderr (console.error)"]
    assert run["error_modes"] == ["catches errors"]
    assert ts["walk"]["outputs"] == ["yields node"]


# -- Rust -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rs() -> dict[str, dict[str, Any]]:
    return sirs("src/store.rs", "rust", RUST)


def test_rust_doc_comment_inputs_outputs_errors(rs: dict[str, dict[str, Any]]) -> None:
    open_ = rs["Store.open"]
    assert open_["intent"] == "Opens the store at `path`."
    assert open_["inputs"] == ["path: &Path"]
    assert open_["outputs"] == ["Result<Self, io::Error>"]
    assert open_["side_effects"] == ["reads files (std::fs::read_to_string)"]
    assert open_["error_modes"] == ["panics on unwrap", "propagates errors with ?"]
    assert open_["dependencies"] == ["fs::read_to_string", "parse", "path.to_path_buf",
                                     "std::fs"]


def test_rust_side_effects_and_panics(rs: dict[str, dict[str, Any]]) -> None:
    hook = rs["Store.run_hook"]
    assert hook["intent"] == "Run hook (method of Store)."
    assert hook["inputs"] == ["name: &str"]  # &self left out
    assert hook["outputs"] == []
    assert hook["side_effects"] == [
        "reads environment (std::env::var)", "spawns processes (std::process::Command::new)",
        "writes to stdout (println!)"]
    assert hook["error_modes"] == ["panics (panic!)", "panics on unwrap"]


def test_rust_struct_fields_and_impl_union(rs: dict[str, dict[str, Any]]) -> None:
    store = rs["Store"]
    assert store["intent"] == "A key-value store backed by a file."
    assert store["inputs"] == ["path: PathBuf", "items: HashMap<String, String>"]
    assert "spawns processes (std::process::Command::new)" in store["side_effects"]
    assert "propagates errors with ?" in store["error_modes"]


# -- Go ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def go() -> dict[str, dict[str, Any]]:
    return sirs("server/server.go", "go", GO)


def test_go_method(go: dict[str, dict[str, Any]]) -> None:
    start = go["Server.Start"]
    assert start["intent"] == "Start listens on the configured address."
    assert start["inputs"] == ["port int", "opts ...Option"]
    assert start["outputs"] == ["int", "error"]
    assert start["side_effects"] == [
        "mutates module state (started)", "network I/O (http.ListenAndServe)",
        "starts goroutines (go)", "writes to stdout (fmt.Println)"]
    assert start["error_modes"] == ["returns error"]
    assert start["dependencies"] == ["errors.New", "fmt.Println", "http.ListenAndServe",
                                     "errors", "fmt", "net/http"]


def test_go_function_panics_and_struct(go: dict[str, dict[str, Any]]) -> None:
    build = go["mustBuild"]
    assert build["intent"] == "Must build."
    assert build["side_effects"] == ["reads environment (os.Getenv)",
                                     "spawns processes (exec.Command)"]
    assert build["error_modes"] == ["panics"]
    server = go["Server"]
    assert server["inputs"] == ["Addr string", "Root string"]  # struct tags dropped
    assert server["intent"] == "Server serves the inventory API over HTTP."
    assert "network I/O (http.ListenAndServe)" in server["side_effects"]  # receiver methods


# -- text helpers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("function", "parse_config_file", "Parse config file."),
    ("function", "parseHTTPConfig", "Parse http config."),
    ("method", "Cache.is_expired", "Check whether it is expired (method of Cache)."),
    ("function", "to_json", "Convert to json."),
    ("method", "Store.new", "Create a new Store."),
    ("struct", "Store", "Defines struct Store."),
    ("method", "Session.__repr__", "Return the debugging representation of Session."),
])
def test_intent_from_name(kind: str, name: str, expected: str) -> None:
    assert intent_from_name(kind, name) == expected


def test_first_sentence_skips_abbreviations_and_sections() -> None:
    assert first_sentence("Return the value, e.g. the cached one. Slow.") == \
        "Return the value, e.g. the cached one."
    assert first_sentence("Summary line\nwrapped here\n\nArgs:\n  x: thing") == \
        "Summary line wrapped here"


# -- StaticProvider ---------------------------------------------------------------------------

def _request(language: str, kind: str, qualified_name: str, source: str) -> SirRequest:
    return SirRequest(symbol_id="x", language=language, file_path="pkg/mod", kind=kind,
                      qualified_name=qualified_name, signature="", source=source,
                      content_hash="h")


def test_static_provider_shape() -> None:
    provider = StaticProvider()
    assert isinstance(provider, Provider)
    assert (provider.name, provider.model) == ("static", "static-v1")


async def test_static_provider_on_an_indented_method_snippet() -> None:
    # what the pipeline sends: the method's own text, cut from column 5 of its file
    source = PY.decode().split("    def fetch", 1)[1].split("\n\n", 1)[0]
    request = _request("python", "method", "Client.fetch", "def fetch" + source)
    sir = await StaticProvider().generate(request)
    from_file = Sir.model_validate(sirs("app/config.py", "python", PY)["Client.fetch"])
    # same analysis; only the file's imports (not part of the snippet) are missing
    assert sir.model_copy(update={"dependencies": from_file.dependencies}) == from_file
    assert sir.dependencies == ["httpx.get", "response.json", "response.raise_for_status"]
    assert sir.side_effects == ["network I/O (httpx.get)"]


async def test_static_provider_decorated_method_snippet() -> None:
    source = ('@retry(3)\n    def send(self, request, **kwargs) -> Response:\n'
              '        """Send a prepared request."""\n'
              '        raise ConnectionError(request)\n')
    sir = await StaticProvider().generate(_request("python", "method", "Session.send", source))
    assert sir.intent == "Send a prepared request."
    assert sir.inputs == ["**kwargs", "request"]
    assert sir.error_modes == ["raises ConnectionError"]
    assert sir.confidence == 0.6


async def test_static_provider_ts_method_and_fallbacks() -> None:
    method = ('async save(key: string): Promise<void> {\n'
              '    await fs.promises.writeFile(key, "x");\n  }')
    sir = await StaticProvider().generate(_request("typescript", "method", "Store.save", method))
    assert sir.intent == "Save (method of Store)."
    assert sir.outputs == ["Promise<void>"]
    assert sir.side_effects == ["writes files (fs.promises.writeFile)"]
    broken = await StaticProvider().generate(
        _request("python", "function", "parse_config_file", "x = = 1"))
    assert broken.intent == "Parse config file."
    assert broken.confidence < 0.3
    unknown = await StaticProvider().generate(_request("cobol", "function", "RUN_IT", "..."))
    assert unknown.intent == "Run it."


def test_python_snippet_restores_the_first_line_indent() -> None:
    assert python_snippet("@dec\n    def f(self):\n        pass\n") == \
        "@dec\ndef f(self):\n    pass\n"
    assert python_snippet("def f(self):\n        return 1\n") == "def f(self):\n        return 1\n"
