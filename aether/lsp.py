"""`aether lsp`: the language server editors start over stdio. A thin adapter over the daemon
(engine + background indexing) and `aether.present` (the hover Markdown).

Contract with the editor extensions (VS Code, Neovim):
- `textDocument/hover`: the SIR of the innermost symbol at the position, parsed from the
  buffer as the editor has it; the first line is a banner when the summary is stale, describes
  an earlier version of the code, or does not exist yet. Never waits on indexing or inference.
- `workspace/symbol`: the ranked search of `aether search`.
- `workspace/executeCommand`: `aether.indexWorkspace`, `aether.refreshSymbol`
  (`[{"uri", "position": {"line", "character"}}]` -> `{"sir_status", "last_error", ...}`),
  `aether.status` (the `aether/status` body plus `workspace`, `db_path`).
- notifications: `$/progress` while indexing (server-initiated work-done progress),
  `window/showMessage` once when the provider's circuit opens and once when it recovers,
  `aether/status` (fields of `DaemonStatus`, at least `state, files_done, files_total,
  symbol_count, sir_count, stale_count, pending_count, circuit, message`) on state changes
  and throttled progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from aether import __version__
from aether.config import ConfigError, Settings, load_settings
from aether.engine.daemon import Daemon, DaemonEvent, DaemonStatus
from aether.logs import setup_logging
from aether.lsp_buffers import Buffers
from aether.lsp_io import AetherProtocol, StdinReader, claim_stdout, show
from aether.present import hover_markdown
from aether.store.db import StoreError
from aether.store.records import SymbolRecord
from aether.symbols.model import Symbol

log = logging.getLogger("aether.lsp")

STATUS_NOTIFICATION = "aether/status"
CMD_INDEX = "aether.indexWorkspace"
CMD_REFRESH = "aether.refreshSymbol"
CMD_STATUS = "aether.status"
REFRESH_WAIT_S = 15.0  # aether.refreshSymbol answers within this, attempt finished or not
READY_WAIT_S = 10.0  # a request arriving while the store opens waits at most this
WORKSPACE_SYMBOL_LIMIT = 100
CHANGE_DEBOUNCE_S = 0.25  # re-parse an edited buffer once typing pauses this long

_KINDS = {
    "function": types.SymbolKind.Function, "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class, "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum, "trait": types.SymbolKind.Interface,
    "interface": types.SymbolKind.Interface, "type_alias": types.SymbolKind.TypeParameter,
}


def status_body(status: DaemonStatus) -> dict[str, Any]:
    """The `aether/status` notification body (every DaemonStatus field)."""
    return status.to_dict()


def _uri_path(uri: str | None) -> Path | None:
    if not uri or not uri.startswith("file:"):
        return None
    return Path(unquote(urlparse(uri).path))


def _unsaved_record(symbol: Symbol) -> SymbolRecord:
    """A symbol that exists only in the buffer: shown as 'no summary yet'."""
    return SymbolRecord(
        id=symbol.id, language=symbol.language, file_path=symbol.file_path, kind=symbol.kind,
        name=symbol.name, qualified_name=symbol.qualified_name, signature=symbol.signature,
        start_line=symbol.start_line, start_col=symbol.start_col, end_line=symbol.end_line,
        end_col=symbol.end_col, start_byte=symbol.start_byte, end_byte=symbol.end_byte,
        content_hash=symbol.content_hash, sir_status="pending", last_error=None,
        last_attempt_at=None, attempts=0, updated_at=None)


class IndexProgress:
    """Server-initiated work-done progress that follows the daemon's state: begins when a
    pass starts, reports (throttled by the daemon), ends when it is idle again. One task
    works from the latest status only, so a slow `create` round trip cannot reorder it."""

    def __init__(self, server: AetherServer) -> None:
        self.server = server
        self._latest: DaemonStatus | None = None
        self._wake = asyncio.Event()
        self._token: str | None = None
        self._last: tuple[str, int] | None = None
        self._ids = itertools.count(1)

    def update(self, status: DaemonStatus) -> None:
        self._latest = status
        self._wake.set()

    @staticmethod
    def _describe(s: DaemonStatus) -> tuple[str, int]:
        if s.sirs_total:
            return (f"{s.sirs_done}/{s.sirs_total} summaries",
                    50 + int(50 * s.sirs_done / max(1, s.sirs_total)))
        if s.files_total:
            return f"{s.files_done}/{s.files_total} files", int(50 * s.files_done / s.files_total)
        return "scanning", 0

    async def run(self) -> None:
        progress = self.server.work_done_progress
        while True:
            await self._wake.wait()
            self._wake.clear()
            s = self._latest
            if s is None or self.server.closing:
                continue
            busy = s.state == "indexing" and self.server.supports_progress
            if busy and self._token is None:
                token = f"aether-index-{os.getpid()}-{next(self._ids)}"
                try:
                    await asyncio.wait_for(progress.create_async(token), 30)
                except Exception as exc:  # the client refused or never answered
                    log.info("work-done progress unavailable: %s", exc)
                    continue
                self._token = token
                message, pct = self._describe(self._latest or s)
                self._last = (message, pct)
                progress.begin(token, types.WorkDoneProgressBegin(
                    title="AETHER indexing", message=message, percentage=pct,
                    cancellable=False))
                self._wake.set()  # re-check: the pass may have ended meanwhile
            elif busy and self._token is not None:
                described = self._describe(s)
                if described != self._last:
                    self._last = described
                    progress.report(self._token, types.WorkDoneProgressReport(
                        message=described[0], percentage=described[1]))
            elif self._token is not None:
                done = (f"{s.symbol_count} symbols, {s.sir_count} summaries"
                        + (f", {s.stale_count} stale" if s.stale_count else ""))
                progress.end(self._token, types.WorkDoneProgressEnd(message=done))
                self._token, self._last = None, None


class AetherServer(LanguageServer):
    def __init__(self, workspace: str | None, overrides: dict[str, Any], *,
                 verbose: bool = False) -> None:
        super().__init__("aether", __version__, protocol_cls=AetherProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.workspace_arg = workspace
        self.overrides = overrides
        self.verbose = verbose
        self.settings: Settings | None = None
        self.daemon: Daemon | None = None
        self.buffers: Buffers | None = None
        self.startup_error: str | None = None
        self.closing = False
        self.ready = asyncio.Event()
        self.index_progress = IndexProgress(self)
        self._initialized = False
        self._circuit_announced = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closer: asyncio.Task[None] | None = None
        self._warming: dict[str, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ lifecycle

    def _root(self, params: types.InitializeParams) -> Path | None:
        if self.workspace_arg:
            return Path(self.workspace_arg)
        for candidate in (params.root_uri,
                          *(f.uri for f in params.workspace_folders or [])):
            path = _uri_path(candidate)
            if path is not None:
                return path
        if params.root_path:
            return Path(params.root_path)
        return None

    async def open(self, params: types.InitializeParams) -> None:
        """At `initialize`: settings, logs, the store and the daemon (no indexing yet:
        notifications may only flow once the client says `initialized`)."""
        try:
            root = self._root(params)
            if root is None:
                raise ConfigError("no workspace folder: open a folder to use AETHER")
            self.settings = load_settings(root, self.overrides)
            key = self.settings.inference.api_key()
            setup_logging(self.settings.log_dir,
                          level=logging.INFO if self.verbose else logging.WARNING,
                          secrets=[key] if key else [])
            self.buffers = Buffers(self.settings)
            daemon = Daemon(self.settings, command="aether lsp")
            try:
                await daemon.start(index=False)
            except BaseException:
                with contextlib.suppress(Exception):
                    await daemon.stop()  # give back the writer lock and whatever opened
                raise
            self.daemon = daemon
            daemon.subscribe(self._on_event)
        except (ConfigError, StoreError, OSError) as exc:
            self.startup_error = f"AETHER cannot start: {exc}"
            log.error("%s", self.startup_error)
        except Exception as exc:  # a bug must not kill the editor session: say so, serve null
            self.startup_error = f"AETHER cannot start: {type(exc).__name__}: {exc}"
            log.exception("startup failed")
        finally:
            self.ready.set()

    async def on_initialized(self) -> None:
        await self.ready.wait()  # a client may say `initialized` before it has our answer
        self._initialized = True
        if self.startup_error:
            show(self.protocol, types.MessageType.Error, self.startup_error)
            self.notify_status(DaemonStatus(state="error", message=self.startup_error))
            return
        self._spawn(self.index_progress.run())
        if self.daemon is not None:
            self.notify_status(self.daemon.status)
            self.daemon.request_index()

    def begin_close(self) -> asyncio.Task[None]:
        """At `shutdown`, `exit` or stdin EOF: stop the daemon (in-flight writes complete or
        roll back), once; the same task for every caller."""
        if self._closer is None:
            self.closing = True
            self._closer = asyncio.ensure_future(self._close())
        return self._closer

    async def _close(self) -> None:
        daemon, self.daemon = self.daemon, None
        for task in [*self._tasks, *self._warming.values()]:
            task.cancel()
        if daemon is not None:
            try:
                await daemon.stop()
            except Exception:
                log.exception("daemon did not stop cleanly")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def serve(self, stdin: Any, stdout: Any) -> int:
        self.protocol.set_writer(StdoutWriter(stdout))
        self._stop_event = threading.Event()
        reader = StdinReader(stdin)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # SIGTERM = stdin EOF
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, reader.close)
        try:
            await run_async(stop_event=self._stop_event, reader=reader,
                            protocol=self.protocol, logger=log,
                            error_handler=self.report_server_error)
        finally:
            await asyncio.shield(self.begin_close())
        return 0

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would pop up "Error in server" in the editor for every out-of-band error;
        # they belong in the log (requests still get their JSON-RPC error).
        log.error("protocol error (%s): %s", getattr(source, "__name__", source), error)

    # ------------------------------------------------------------------ notifications

    @property
    def supports_progress(self) -> bool:
        window = self.client_capabilities.window
        return bool(window and window.work_done_progress)

    def notify_status(self, status: DaemonStatus) -> None:
        if self.closing or not self._initialized:
            return
        self.protocol.notify(STATUS_NOTIFICATION, status_body(status))

    def _on_event(self, event: DaemonEvent) -> None:
        if self.closing or not self._initialized:
            return
        if event.kind == "circuit":
            self._announce_circuit(event.status.circuit)
        self.notify_status(event.status)
        self.index_progress.update(event.status)

    def _announce_circuit(self, state: str) -> None:
        """Once when the circuit opens, once when it closes again; half-open probes that
        fail again say nothing."""
        provider = self.daemon.engine.provider.name if self.daemon and self.daemon.engine else ""
        if state == "open" and not self._circuit_announced:
            self._circuit_announced = True
            show(self.protocol, types.MessageType.Warning,
                 f"AETHER: the {provider} provider keeps failing; new summaries are paused and "
                 "affected ones are marked stale until it recovers.")
        elif state == "closed" and self._circuit_announced:
            self._circuit_announced = False
            show(self.protocol, types.MessageType.Info,
                 f"AETHER: the {provider} provider has recovered; stale summaries will be "
                 "refreshed.")

    # ------------------------------------------------------------------ requests

    async def _live(self) -> Daemon | None:
        if not self.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), READY_WAIT_S)
        daemon = self.daemon
        return daemon if daemon is not None and daemon.engine is not None else None

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        try:
            return await self._hover(params.text_document.uri, params.position)
        except Exception:  # a hover is never an error for the user
            log.exception("hover failed at %s:%s", params.text_document.uri,
                          params.position.line)
            return None

    async def _hover(self, uri: str, position: types.Position) -> types.Hover | None:
        daemon = await self._live()
        if daemon is None or daemon.engine is None or self.buffers is None:
            return None
        snap = await self.buffers.snapshot(self.workspace.get_text_document(uri))
        if snap is None:
            return None
        codec = self.workspace.position_codec
        symbol = snap.symbol_at(position, codec)
        if symbol is None:
            return None
        record = await daemon.engine.store.symbol(symbol.id)
        if record is None:
            markdown = hover_markdown(_unsaved_record(symbol), unsaved=True)
        else:
            differs = record.source_hash is not None and record.source_hash != symbol.content_hash
            markdown = hover_markdown(record, buffer_differs=differs)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
            range=snap.lsp_range(symbol, codec))

    async def workspace_symbols(self, query: str) -> list[types.SymbolInformation]:
        daemon = await self._live()
        if daemon is None or daemon.engine is None or not query.strip():
            return []
        outcome = await daemon.engine.search(query, WORKSPACE_SYMBOL_LIMIT)
        root = daemon.engine.settings.workspace
        out = []
        for r in outcome.records:
            start = types.Position(line=max(0, r.start_line - 1), character=max(0, r.start_col - 1))
            end = types.Position(line=max(0, r.end_line - 1), character=max(0, r.end_col))
            parent = r.qualified_name.rpartition(".")[0]
            out.append(types.SymbolInformation(
                name=r.name, kind=_KINDS.get(r.kind, types.SymbolKind.Variable),
                location=types.Location(uri=(root / r.file_path).as_uri(),
                                        range=types.Range(start=start, end=end)),
                container_name=parent or r.file_path))
        return out

    async def refresh_symbol(self, args: list[Any]) -> dict[str, Any]:
        uri, position = _refresh_args(args)
        daemon = await self._live()
        if daemon is None or daemon.engine is None or self.buffers is None:
            raise JsonRpcInvalidParams(self.startup_error or "AETHER is not running")
        snap = await self.buffers.snapshot(self.workspace.get_text_document(uri))
        if snap is None:
            raise JsonRpcInvalidParams(f"AETHER does not index {uri}")
        symbol = snap.symbol_at(position, self.workspace.position_codec)
        if symbol is None:
            raise JsonRpcInvalidParams("no symbol at this position")
        if await daemon.engine.store.symbol(symbol.id) is None:
            raise JsonRpcInvalidParams(
                f"{symbol.qualified_name} is not indexed yet: save the file first")
        found = await daemon.refresh([symbol.id], wait_s=REFRESH_WAIT_S)
        if not found:
            raise JsonRpcInvalidParams(f"{symbol.qualified_name} was removed meanwhile")
        rec = found[0]
        return {"symbol_id": rec.id, "qualified_name": rec.qualified_name,
                "sir_status": rec.sir_status, "stale_reason": rec.stale_reason,
                "last_error": rec.last_error, "last_attempt_at": rec.last_attempt_at}

    async def status(self) -> dict[str, Any]:
        await self._live()
        daemon = self.daemon
        status = daemon.status if daemon is not None else DaemonStatus(
            state="error", message=self.startup_error)
        body = status_body(status)
        body["workspace"] = str(self.settings.workspace) if self.settings else None
        body["db_path"] = str(self.settings.db_path) if self.settings else None
        return body

    # ------------------------------------------------------------------ documents

    def opened(self, uri: str) -> None:
        """Warm the parse cache so the first hover in a file is as fast as the rest."""
        self.changed(uri, delay_s=0.0)

    def changed(self, uri: str, delay_s: float = CHANGE_DEBOUNCE_S) -> None:
        """Re-parse once typing pauses, so a hover after an edit rarely waits for a parse."""
        if self.buffers is None or self.buffers.target(uri) is None:
            return
        pending = self._warming.pop(uri, None)
        if pending is not None:
            pending.cancel()
        task = asyncio.ensure_future(self._warm(uri, delay_s))
        self._warming[uri] = task
        task.add_done_callback(lambda t: self._warming.pop(uri, None)
                               if self._warming.get(uri) is t else None)

    async def _warm(self, uri: str, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        with contextlib.suppress(Exception):
            if self.buffers is not None and not self.closing:
                await self.buffers.snapshot(self.workspace.get_text_document(uri))

    def saved(self, uri: str) -> None:
        if self.buffers is None or self.daemon is None:
            return
        target = self.buffers.target(uri)
        if target is not None:
            self.daemon.request_index([target.rel_path])

    def closed(self, uri: str) -> None:
        pending = self._warming.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if self.buffers is not None:
            self.buffers.forget(uri)


def _refresh_args(args: list[Any]) -> tuple[str, types.Position]:
    """`[{"uri": str, "position": {"line": int, "character": int}}]`, strictly."""
    try:
        (arg,) = args
        uri = arg["uri"]
        line, character = arg["position"]["line"], arg["position"]["character"]
        if not isinstance(uri, str) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for v in (line, character)):
            raise TypeError
    except (TypeError, KeyError, ValueError):
        raise JsonRpcInvalidParams(
            f'{CMD_REFRESH} takes [{{"uri": str, "position": {{"line": int, '
            f'"character": int}}}}]') from None
    return uri, types.Position(line=line, character=character)


def build_server(workspace: str | None, overrides: dict[str, Any], *,
                 verbose: bool = False) -> AetherServer:
    server = AetherServer(workspace, overrides, verbose=verbose)

    @server.feature(types.INITIALIZE)
    async def _initialize(ls: AetherServer, params: types.InitializeParams) -> None:
        await ls.open(params)

    @server.feature(types.INITIALIZED)
    async def _initialized(ls: AetherServer, *args: Any) -> None:
        await ls.on_initialized()

    @server.feature(types.SHUTDOWN)
    def _shutdown(ls: AetherServer, *args: Any) -> None:
        # Answers at once; the daemon stops in a task that `serve` awaits before the process
        # exits, so in-flight writes complete or roll back whichever way the session ends.
        ls.begin_close()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def _hover(ls: AetherServer, params: types.HoverParams) -> types.Hover | None:
        return await ls.hover(params)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def _symbols(ls: AetherServer,
                       params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
        return await ls.workspace_symbols(params.query)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def _did_open(ls: AetherServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def _did_change(ls: AetherServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)  # pygls has applied the change itself

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def _did_save(ls: AetherServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def _did_close(ls: AetherServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.command(CMD_INDEX)
    def _index(ls: AetherServer, *args: Any) -> dict[str, Any]:
        if ls.daemon is None:
            raise JsonRpcInvalidParams(ls.startup_error or "AETHER is not running")
        ls.daemon.request_index()
        return {"queued": True}

    @server.command(CMD_REFRESH)
    async def _refresh(ls: AetherServer, *args: Any) -> dict[str, Any]:
        return await ls.refresh_symbol(list(args))

    @server.command(CMD_STATUS)
    async def _status(ls: AetherServer, *args: Any) -> dict[str, Any]:
        return await ls.status()

    return server


def run(workspace: str | None, overrides: dict[str, Any], *, verbose: bool = False) -> int:
    """Serve LSP over stdio until `exit` or stdin EOF; stdout carries only the protocol."""
    proto_out = claim_stdout()
    setup_logging(None, level=logging.INFO if verbose else logging.WARNING)
    server = build_server(workspace, overrides, verbose=verbose)
    try:
        code = asyncio.run(server.serve(sys.stdin.buffer, proto_out))
    except SystemExit as exc:  # pygls ends `exit` with sys.exit(0 after shutdown, else 1)
        code = exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        code = 130
    finally:
        with contextlib.suppress(OSError, ValueError):
            proto_out.close()
    _exit_if_stuck(code)
    return code


def _exit_if_stuck(code: int, grace_s: float = 5.0) -> None:
    """The daemon has stopped; an editor waits for this process to end. A thread that
    failed to finish (a leaked connection, a hung library call) must not keep it alive."""
    deadline = time.monotonic() + grace_s
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate()
             if t is not threading.current_thread() and not t.daemon and t.is_alive()]
    if stuck:
        log.error("threads still running at exit (%s); exiting anyway", ", ".join(stuck))
        logging.shutdown()
        os._exit(code)
