"""The language server: lifecycle, notifications, document sync, and the table of features
(each one a line that calls its module: hover, symbols, commands)."""

from __future__ import annotations

import asyncio
import contextlib
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
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from aether import __version__
from aether.config import ConfigError, Settings, load_settings
from aether.engine.daemon import Daemon, DaemonEvent, DaemonStatus
from aether.engine.engine import Engine
from aether.logs import setup_logging
from aether.lsp import (
    calls,
    commands,
    graph_commands,
    hover,
    lens,
    navigation,
    outline,
    symbols,
)
from aether.lsp.buffers import Buffers, Snapshot
from aether.lsp.commands import CMD_INDEX, CMD_REFRESH, CMD_STATUS, status_body
from aether.lsp.documents import use_edited_documents
from aether.lsp.io import AetherProtocol, StdinReader, claim_stdout, show
from aether.lsp.progress import IndexProgress
from aether.store.db import StoreError

log = logging.getLogger("aether.lsp")

STATUS_NOTIFICATION = "aether/status"
READY_WAIT_S = 10.0  # a request arriving while the store opens waits at most this
CHANGE_DEBOUNCE_S = 0.25  # re-parse an edited buffer once typing pauses this long


def _uri_path(uri: str | None) -> Path | None:
    if not uri or not uri.startswith("file:"):
        return None
    return Path(unquote(urlparse(uri).path))


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
        self._cap_announced = False
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
        # No folder (an editor's single-file mode): the folder the editor was started in,
        # unless that is the file system root or the home folder, too big to index unasked
        cwd = Path.cwd()
        if cwd != Path(cwd.anchor) and cwd != Path.home():
            return cwd
        return None

    async def open(self, params: types.InitializeParams) -> None:
        """At `initialize`: settings, logs, the store and the daemon (no indexing yet:
        notifications may only flow once the client says `initialized`)."""
        try:
            use_edited_documents(self.workspace)  # edits cost what the edit touches
            root = self._root(params)
            if root is None:
                raise ConfigError("no workspace folder, and the editor runs in the file "
                                  "system root or the home folder: open a folder to use "
                                  "AETHER, or start it with --workspace")
            self.settings = load_settings(root, self.overrides)
            key = self.settings.inference.api_key()
            setup_logging(self.settings.log_dir,
                          level=logging.INFO if self.verbose else logging.WARNING,
                          secrets=[key] if key else [])
            self.buffers = Buffers(self.settings)
            daemon = Daemon(self.settings, command="aether lsp")
            daemon.add_shedder(self.buffers.shed)
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
        if self.settings is not None and self.settings.untrusted_reason:
            show(self.protocol, types.MessageType.Warning,
                 f"AETHER: {self.settings.untrusted_reason}")
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
        if isinstance(error, ValueError) and isinstance(self.protocol, AetherProtocol):
            self.protocol.reject_undecodable(error)  # json.loads: not JSON, or not UTF-8

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
        if event.kind == "spend_cap" and event.status.spend_cap and not self._cap_announced:
            self._cap_announced = True  # once per run: the status bar carries the rest
            show(self.protocol, types.MessageType.Warning,
                 f"AETHER: {event.status.spend_cap}. Summaries already made are kept; "
                 "`aether usage` shows the spend.")
        self.notify_status(event.status)
        self.index_progress.update(event.status)
        if event.kind == "status" and event.status.state == "idle":
            graph_commands.refresh_code_lenses(self)  # new callers, new SIR states

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

    async def live(self) -> Daemon | None:
        if not self.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), READY_WAIT_S)
        daemon = self.daemon
        return daemon if daemon is not None and daemon.engine is not None else None

    # ------------------------------------------------------------------ documents


    async def document(self, uri: str) -> tuple[Engine, Snapshot] | None:
        """The running engine and the parse of a document as the editor has it; None when
        AETHER is not running or does not serve this document."""
        daemon = await self.live()
        if daemon is None or daemon.engine is None or self.buffers is None:
            return None
        snap = await self.buffers.snapshot(self.workspace.get_text_document(uri))
        return (daemon.engine, snap) if snap is not None else None
    def opened(self, uri: str) -> None:
        """Warm the parse cache so the first hover in a file is as fast as the rest."""
        self.changed(uri, delay_s=0.0)

    def changed(self, uri: str, delay_s: float = CHANGE_DEBOUNCE_S) -> None:
        """Re-parse once typing pauses, so a hover after an edit rarely waits for a parse.
        A buffer above the indexing size limit is never parsed (hover says why)."""
        if self.buffers is None or self.buffers.target(uri) is None:
            return
        if self.buffers.too_large(self.workspace.get_text_document(uri)):
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
        return await hover.hover(ls, params)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def _symbols(ls: AetherServer,
                       params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
        return await symbols.workspace_symbols(ls, params.query)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def _outline(ls: AetherServer, params: types.DocumentSymbolParams
                       ) -> list[types.DocumentSymbol] | None:
        return await outline.document_symbols(ls, params)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
    async def _prepare_calls(ls: AetherServer, params: types.CallHierarchyPrepareParams
                             ) -> list[types.CallHierarchyItem] | None:
        return await calls.prepare(ls, params)

    @server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
    async def _incoming(ls: AetherServer, params: types.CallHierarchyIncomingCallsParams
                        ) -> list[types.CallHierarchyIncomingCall] | None:
        return await calls.incoming(ls, params)

    @server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
    async def _outgoing(ls: AetherServer, params: types.CallHierarchyOutgoingCallsParams
                        ) -> list[types.CallHierarchyOutgoingCall] | None:
        return await calls.outgoing(ls, params)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def _definition(ls: AetherServer, params: types.DefinitionParams
                          ) -> list[types.Location] | None:
        return await navigation.definition(ls, params)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def _references(ls: AetherServer, params: types.ReferenceParams
                          ) -> list[types.Location] | None:
        return await navigation.references(ls, params)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def _lenses(ls: AetherServer, params: types.CodeLensParams
                      ) -> list[types.CodeLens] | None:
        return await lens.code_lenses(ls, params)

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
        return commands.index_workspace(ls)

    @server.command(CMD_REFRESH)
    async def _refresh(ls: AetherServer, *args: Any) -> dict[str, Any]:
        return await commands.refresh_symbol(ls, list(args))

    @server.command(graph_commands.CMD_IMPACT)
    async def _impact(ls: AetherServer, *args: Any) -> dict[str, Any]:
        return await graph_commands.impact(ls, list(args))

    @server.command(CMD_STATUS)
    async def _status(ls: AetherServer, *args: Any) -> dict[str, Any]:
        return await commands.status(ls)

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
