"""A fault-injecting LLM HTTP server on 127.0.0.1, for tests and benchmarks.

Plain asyncio streams (not an HTTP framework) so resets and hangs are exactly what the
script says. It runs its own event loop in a background thread, so synchronous tests, async
tests and subprocesses (e.g. `aether lsp` started by a test) can all reach it.

It speaks three flavours, chosen by the request path: OpenAI-compatible
(`.../chat/completions`), Gemini (`.../models/{m}:generateContent`) and Anthropic
(`.../v1/messages`), plus OpenAI-compatible embeddings (`.../embeddings`: deterministic
vectors, a hashed bag of the input's words, so texts sharing words are near). Each request
takes the next behaviour of a FIFO script, then the default:

    ok | ok:0.2        valid SIR (optional latency override, seconds)
    429 | 429:2        429 with Retry-After: 2 (seconds; default 1)
    429ms:1500         429 with retry-after-ms: 1500
    429date:2          429 with Retry-After as an HTTP-date 2 s ahead
    429none            429 without any retry-after
    500 503 529 ...    that status with a flavour-shaped error body
    busy               Ollama's 503 "server busy" (no Retry-After)
    hang | hang:5      read the request, never answer (until the client leaves or 5 s)
    reset              start a 200 answer, then reset the connection mid-body
    garbage            200 whose content is not JSON
    badschema          200 whose content is JSON that fails the SIR schema
    401 403 400        auth / bad-request errors (401 echoes the key it was given)
    echoupper          401 echoing the key upper-cased
    echosplit          401 echoing the key in two halves, with Markdown and control characters
    TOKENxN            repeat, e.g. 500x3

By hand: python -m tests.fakeprovider --port 0 --script ok,429:2,500x3,hang,reset,garbage
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 408: "Request Timeout", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout", 529: "Overloaded"}
_QNAME = re.compile(r"Qualified name: (\S+)")
_WORD = re.compile(r"\w+|[^\w\s]")
_SIGNATURE = re.compile(r"Signature: [^(\n]*\(([^)\n]*)")
_TOKEN = re.compile(r"^(?P<kind>[a-z]+|\d{3})(?P<unit>ms|date|none)?(?::(?P<arg>[\d.]+))?"
                    r"(?:x(?P<times>\d+))?$")
MAX_BODY = 16 * 1024 * 1024
MAX_HEADERS = 200
MAX_REQUESTS_PER_CONNECTION = 100_000


@dataclass(frozen=True, slots=True)
class Behaviour:
    kind: str  # ok, hang, reset, garbage, badschema, busy, or a status code such as "429"
    arg: float | None = None
    unit: str | None = None  # for 429: None (seconds) | "ms" | "date" | "none"

    def __str__(self) -> str:
        arg = "" if self.arg is None else f":{self.arg:g}"
        return f"{self.kind}{self.unit or ''}{arg}"


def parse_script(script: str | Iterable[str]) -> list[Behaviour]:
    """"ok,429:2,500x3" (or a list of tokens) -> behaviours, repeats expanded."""
    tokens = script.split(",") if isinstance(script, str) else list(script)
    out: list[Behaviour] = []
    for raw in tokens:
        token = raw.strip().lower()
        if not token:
            continue
        m = _TOKEN.match(token)
        if m is None:
            raise ValueError(f"bad script token: {raw!r}")
        arg = float(m["arg"]) if m["arg"] else None
        out.extend([Behaviour(m["kind"], arg, m["unit"])] * int(m["times"] or 1))
    return out


@dataclass(slots=True)
class Observed:
    """One request as the server saw it."""

    t: float  # time.monotonic() when the request had been read
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text
    behaviour: str
    status: int | None = None  # None: hung or reset
    flavor: str = "openai"
    usage: tuple[int, int] | None = None  # (input, output) tokens reported in a 200


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    keep_alive: bool = True
    body: Any = field(default=None)


class FakeProvider:
    """Start with `start()` (or `with FakeProvider(...) as fp:`); `url` is the base URL."""

    def __init__(self, script: str | Iterable[str] = (), *, default: str = "ok",
                 latency_s: float = 0.0, hang_s: float = 30.0,
                 rate_limit: tuple[int, float] | None = None, require_key: str | None = None,
                 port: int = 0) -> None:
        self._lock = threading.Lock()
        self._script: deque[Behaviour] = deque(parse_script(script))
        self._default = parse_script(default)[0]
        self.latency_s = latency_s
        self.hang_s = hang_s
        self.rate_limit = rate_limit  # (max requests, per window seconds), server side
        self.require_key = require_key
        self._port = port
        self._observed: list[Observed] = []
        self._answers: deque[str] = deque()  # model texts for the next `ok` answers
        self._window: deque[float] = deque()
        self.in_flight = 0
        self.max_in_flight = 0
        self.rate_limited = 0  # 429s served by the server-side rate limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, flavor: str = "openai") -> str:
        """The `inference.endpoint` to configure for a flavour."""
        return {"openai": self.url + "/v1", "gemini": self.url + "/v1beta",
                "anthropic": self.url}[flavor]

    def push(self, *tokens: str) -> None:
        """Append behaviours to the script (each token may be a comma list)."""
        with self._lock:
            for token in tokens:
                self._script.extend(parse_script(token))

    def push_answer(self, *texts: str) -> None:
        """The model text of the next `ok` answers (then the usual generated SIR)."""
        with self._lock:
            self._answers.extend(texts)

    def set_default(self, token: str) -> None:
        with self._lock:
            self._default = parse_script(token)[0]

    def requests(self) -> list[Observed]:
        with self._lock:
            return list(self._observed)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._observed)

    def statuses(self) -> list[int | None]:
        return [o.status for o in self.requests()]

    def gaps_after(self, status: int = 429) -> list[float]:
        """Seconds from each request answered with `status` to the next request received."""
        obs = self.requests()
        return [b.t - a.t for a, b in itertools.pairwise(obs) if a.status == status]

    def reported_tokens(self) -> int:
        """Input plus output tokens of every answer that reported usage."""
        return sum(a + b for o in self.requests() if o.usage and o.status == 200
                   for a, b in [o.usage])

    def clear(self) -> None:
        with self._lock:
            self._observed.clear()
            self.max_in_flight = self.in_flight
            self.rate_limited = 0

    def start(self) -> FakeProvider:
        self._thread = threading.Thread(target=self._run, name="fakeprovider", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake provider did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ server thread

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", self._port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                request = await _read_request(reader)
                if request is None or not await self._answer(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            # Only our own shutdown cancels these tasks; finishing normally keeps asyncio's
            # stream callback (3.11) from logging the cancellation as an error.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _next(self, now: float) -> tuple[Behaviour, bool]:
        """The behaviour for this request; True when the server-side rate limit chose it."""
        with self._lock:
            if self.rate_limit is not None:
                limit, window = self.rate_limit
                while self._window and self._window[0] <= now - window:
                    self._window.popleft()
                if len(self._window) >= limit:
                    self.rate_limited += 1
                    wait = self._window[0] + window - now
                    return Behaviour("429", float(max(1, math.ceil(wait)))), True
                self._window.append(now)
            return (self._script.popleft() if self._script else self._default), False

    async def _answer(self, req: _Request, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must end."""
        now = time.monotonic()
        flavor = _flavor(req.path)
        behaviour, _ = self._next(now)
        if self.require_key and self.require_key not in _presented_key(req.headers):
            behaviour = Behaviour("401")
        observed = Observed(now, req.method, req.path, req.headers, req.body, str(behaviour),
                            flavor=flavor)
        with self._lock:
            self._observed.append(observed)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._act(behaviour, flavor, req, observed, reader, writer)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _act(self, b: Behaviour, flavor: str, req: _Request, observed: Observed,
                   reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        kind = b.kind
        if kind == "hang":
            # Wait for the client to give up (EOF) or the bound, then drop the connection.
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(reader.read(1), b.arg or self.hang_s)
            return False
        if kind in ("ok", "garbage", "badschema", "reset"):
            latency = b.arg if (kind == "ok" and b.arg is not None) else self.latency_s
            if latency > 0:
                await asyncio.sleep(latency)
            if flavor == "embeddings":
                return await self._embeddings(kind, req, observed, writer)
            content = _content(kind, req.body)
            if kind == "ok":
                with self._lock:
                    if self._answers:
                        content = self._answers.popleft()
            usage = (count_tokens(_prompt_text(req.body)) + 4, count_tokens(content))
            payload = json.dumps(_success(flavor, content, usage)).encode()
            observed.usage = usage
            return await _deliver(writer, req, observed, kind, payload)
        status, headers, body = _error(b, flavor, req.headers)
        observed.status = status
        await _write(writer, status, json.dumps(body).encode(), headers, req.keep_alive)
        return req.keep_alive


    async def _embeddings(self, kind: str, req: _Request, observed: Observed,
                          writer: asyncio.StreamWriter) -> bool:
        inputs = req.body.get("input") if isinstance(req.body, dict) else None
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        tokens = sum(count_tokens(str(t)) for t in texts)
        if kind == "garbage":
            payload = b"<html>not json</html>"
        elif kind == "badschema":  # JSON, but one vector short
            payload = json.dumps({"object": "list", "data": [
                {"object": "embedding", "index": i, "embedding": embedding_vector(str(t))}
                for i, t in enumerate(texts[1:])]}).encode()
        else:
            payload = json.dumps({
                "object": "list", "model": str((req.body or {}).get("model", "")),
                "data": [{"object": "embedding", "index": i,
                          "embedding": embedding_vector(str(t))} for i, t in enumerate(texts)],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}).encode()
        observed.usage = (tokens, 0)
        return await _deliver(writer, req, observed, kind, payload)


EMBEDDING_DIM = 48


def embedding_vector(text: str) -> list[float]:
    """A deterministic vector for `text`: each lower-cased word adds 1 to a slot picked by a
    stable hash of it (texts sharing words point the same way). Not normalised, on purpose:
    the client must normalise."""
    vec = [0.0] * EMBEDDING_DIM
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        slot = sum((i + 1) * ord(c) for i, c in enumerate(word)) % EMBEDDING_DIM
        vec[slot] += 1.0
    vec[0] += 0.01  # never the zero vector
    return vec


# ---------------------------------------------------------------------- HTTP plumbing


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("bad request line")
    method, path, version = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY:
        raise ValueError("body too large")
    data = await reader.readexactly(length) if length else b""
    try:
        body: Any = json.loads(data) if data else None
    except ValueError:
        body = data.decode("utf-8", "replace")
    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    return _Request(method, path, headers, data, keep, body)


async def _deliver(writer: asyncio.StreamWriter, req: _Request, observed: Observed,
                   kind: str, payload: bytes) -> bool:
    """A successful answer, or (fault `reset`) its first bytes and a reset connection.
    Returns whether the connection stays open."""
    if kind == "reset":
        await _reset(writer, payload)
        return False
    observed.status = 200
    await _write(writer, 200, payload, {}, req.keep_alive)
    return req.keep_alive


async def _write(writer: asyncio.StreamWriter, status: int, body: bytes,
                 headers: dict[str, str], keep_alive: bool) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "content-type: application/json", f"content-length: {len(body)}",
            f"connection: {'keep-alive' if keep_alive else 'close'}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def _reset(writer: asyncio.StreamWriter, payload: bytes) -> None:
    """Promise the whole body, send part of it, then RST the connection (SO_LINGER 0)."""
    writer.write((f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                  f"content-length: {len(payload) + 500}\r\n\r\n").encode() + payload[:20])
    await writer.drain()
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _flavor(path: str) -> str:
    if path.rstrip("/").endswith("/embeddings"):
        return "embeddings"
    if ":generatecontent" in path.lower():
        return "gemini"
    if path.rstrip("/").endswith("/messages"):
        return "anthropic"
    return "openai"


def _presented_key(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    bearer = auth[7:] if auth.lower().startswith("bearer ") else ""
    return bearer or headers.get("x-goog-api-key", "") or headers.get("x-api-key", "")


def _prompt_text(body: Any, depth: int = 0) -> str:
    """All the strings of a request body, whatever its flavour."""
    if isinstance(body, str):
        return body
    if depth > 20:
        return ""
    if isinstance(body, dict):
        return "\n".join(_prompt_text(v, depth + 1) for v in body.values())
    if isinstance(body, list):
        return "\n".join(_prompt_text(v, depth + 1) for v in body)
    return ""


def _content(kind: str, body: Any) -> str:
    if kind == "garbage":
        return "Sure! Here is what the function does: <b>it does things</b>. Hope this helps"
    if kind == "badschema":
        return json.dumps({"intent": "", "inputs": "x", "confidence": 7})
    text = _prompt_text(body)
    m = _QNAME.search(text)
    name = m.group(1) if m else "the symbol"
    # Faithful to the code where it is easy to be (the parameters), silent elsewhere, so the
    # check against the static facts finds nothing to contradict.
    sig = _SIGNATURE.search(text)
    params = [p.strip().split(":")[0].split("=")[0].strip().lstrip("*")
              for p in (sig.group(1).split(",") if sig else [])]
    inputs = [p for p in params if p and p not in ("self", "cls")]
    return json.dumps({
        "intent": f"Summarises {name} (fake provider).",
        "inputs": inputs, "outputs": ["result"], "side_effects": [],
        "dependencies": [], "error_modes": [], "confidence": 0.5,
    })


def count_tokens(text: str) -> int:
    """What the fake reports as tokens: a BPE-like count (a word is one token per 4
    characters, a punctuation mark one), deliberately not a fixed chars-per-token ratio."""
    return sum(-(-len(w) // 4) for w in _WORD.findall(text))


def _success(flavor: str, content: str, usage: tuple[int, int]) -> dict[str, Any]:
    """A 200 body in the flavour's shape, with usage where each API reports it."""
    prompt, completion = usage
    if flavor == "gemini":
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": content}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": completion,
                                  "totalTokenCount": prompt + completion}}
    if flavor == "anthropic":
        return {"id": "msg_fake", "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": content}], "stop_reason": "end_turn",
                "usage": {"input_tokens": prompt, "output_tokens": completion}}
    return {"id": "chatcmpl-fake", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}}


def _error(b: Behaviour, flavor: str,
           headers: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
    if b.kind == "busy":  # what Ollama says when its queue is full
        return 503, {}, {"error": "server busy, please try again. maximum pending requests "
                                  "exceeded"}
    status = int(b.kind) if b.kind.isdigit() else 401 if b.kind.startswith("echo") else 500
    extra: dict[str, str] = {}
    retry = b.arg if b.arg is not None else 1.0
    message = f"fake {status}"
    key = _presented_key(headers) or "(none)"
    if b.kind == "echoupper":
        message = f"Incorrect API key provided: {key.upper()}"
    elif b.kind == "echosplit":
        half = len(key) // 2
        message = (f"**Bad key** [click](http://evil.example/) \x1b[31m{key[:half]}\x1b[0m"
                   f"\n...\n{key[half:]}")
    elif status == 401:
        message = f"Incorrect API key provided: {key}"
    if status == 429 and flavor != "gemini":  # Gemini: only RetryInfo in the body
        if b.unit == "ms":
            extra["retry-after-ms"] = f"{retry:g}"
        elif b.unit == "date":
            extra["retry-after"] = formatdate(time.time() + retry, usegmt=True)
        elif b.unit != "none":
            extra["retry-after"] = f"{retry:g}"
    if flavor == "gemini":
        gstatus = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                   400: "INVALID_ARGUMENT", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        error: dict[str, Any] = {"code": status, "message": message, "status": gstatus}
        if status == 429 and b.unit != "none":
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                 "retryDelay": f"{retry:g}s"}]
        return status, extra, {"error": error}
    if flavor == "anthropic":
        etype = {429: "rate_limit_error", 401: "authentication_error", 529: "overloaded_error",
                 400: "invalid_request_error", 403: "permission_error"}.get(status, "api_error")
        return status, extra, {"type": "error", "error": {"type": etype, "message": message}}
    return status, extra, {"error": {"message": message, "type": "fake_error", "code": None}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeprovider", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", default="")
    parser.add_argument("--default", default="ok")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per ok answer")
    parser.add_argument("--rate-limit", default="", help="N/SECONDS, e.g. 100/60")
    parser.add_argument("--require-key", default=None)
    parser.add_argument("--duration", type=float, default=3600.0, help="stop after seconds")
    args = parser.parse_args(argv)
    limit = None
    if args.rate_limit:
        n, _, window = args.rate_limit.partition("/")
        limit = (int(n), float(window or 60))
    server = FakeProvider(args.script, default=args.default, latency_s=args.latency,
                          rate_limit=limit, require_key=args.require_key, port=args.port)
    with server:
        print(server.endpoint("openai"), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(args.duration)
    print(f"{server.count} requests, max in flight {server.max_in_flight}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
