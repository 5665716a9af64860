"""The SIR pipeline: symbols that need a SIR -> provider -> store, honouring the stale contract.

Success writes SIR + metadata in one transaction. Failure never touches the last good SIR:
the symbol is marked stale with a short, scrubbed `last_error` and the error is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from aether.guard.spend import SpendMeter
from aether.hashing import content_hash
from aether.providers.base import Provider, SirRequest
from aether.providers.errors import ProviderError, SpendCapReached
from aether.providers.redact import scrub_secrets
from aether.providers.static import StaticProvider
from aether.redaction import redact_secrets
from aether.sir.model import Sir
from aether.sir.prompt import PROMPT_VERSION
from aether.sir.verify import adjusted_confidence, facts_for_prompt, verify
from aether.store.db import Store
from aether.store.records import DEFERRED_PREFIX, NewSir, PreparedSir, SymbolRecord, one_line

log = logging.getLogger("aether.pipeline")

ProgressFn = Callable[[int, int], None]


@dataclass(slots=True)
class PipelineReport:
    attempted: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # the code moved on since the symbol was queued; the indexer requeues it
    seconds: float = 0.0  # wall time of the run: inference, waits and writes
    deferred: int = 0  # not attempted: a spend cap was reached
    cap_message: str | None = None  # the cap, once per run


class SymbolChanged(Exception):
    """The bytes on disk no longer match the symbol the store knows."""


class SirPipeline:
    def __init__(self, store: Store, provider: Provider, root: Path, *,
                 workers: int = 1, secrets: Sequence[str] = (),
                 meter: SpendMeter | None = None, verify_retry_share: float = 0.5,
                 yield_to: Callable[[], Awaitable[object]] | None = None,
                 skip_fresh: bool = False) -> None:
        self.store = store
        self.meter = meter  # its ledger rows are written after each symbol
        self.verify_retry_share = verify_retry_share
        self.yield_to = yield_to  # waits while someone's own request is being served
        # a bulk pass skips a symbol someone else's request made fresh since it was queued
        self.skip_fresh = skip_fresh
        self.provider = provider
        self.root = root
        self.workers = max(1, workers)
        self.secrets = [s for s in secrets if s]
        # One log line per distinct failure: a wrong key must not print 284 warnings.
        self._logged: set[str] = set()

    async def run(self, symbol_ids: Sequence[str],
                  progress: ProgressFn | None = None) -> PipelineReport:
        report = PipelineReport()
        started = time.perf_counter()
        queue: asyncio.Queue[str] = asyncio.Queue()
        for sid in dict.fromkeys(symbol_ids):  # dedupe, keep order
            queue.put_nowait(sid)
        total = queue.qsize()
        if progress:
            progress(0, total)

        async def worker() -> None:
            while True:
                if self.yield_to is not None:
                    await self.yield_to()
                try:
                    sid = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if report.cap_message is not None:
                    deferred.append(sid)
                    done()
                    continue
                try:
                    status = await self.generate(sid)
                except SpendCapReached as exc:
                    # Never sent: this symbol and every one after it keep their state.
                    if report.cap_message is None:
                        report.cap_message = str(exc)
                        log.warning("%s", exc)
                    deferred.append(sid)
                    done()
                    continue
                if status == "ok":
                    report.ok += 1
                elif status == "stale":
                    report.failed += 1
                else:
                    report.skipped += 1
                report.attempted += status != "skipped"
                done()

        def done() -> None:
            if progress:
                progress(report.attempted + report.skipped + len(deferred), total)

        deferred: list[str] = []
        try:
            await asyncio.gather(*(worker() for _ in range(min(self.workers, total) or 1)))
        finally:
            await self._write_ledger()
        if deferred and report.cap_message is not None:
            report.deferred = len(deferred)
            await self.store.record_sir_deferred(deferred, "spend_cap",
                                                 f"{DEFERRED_PREFIX} {report.cap_message}")
        report.seconds = time.perf_counter() - started
        return report

    async def generate(self, symbol_id: str) -> str:
        """One attempt (the guard inside the provider does the retrying). Returns the
        resulting status: ok | stale | skipped."""
        record = await self.store.symbol(symbol_id)
        if record is None or (self.skip_fresh and record.sir_status == "ok"):
            return "skipped"
        try:
            request = await self.request_for(record)
        except SymbolChanged:
            return "skipped"
        except OSError as exc:
            await self.store.record_sir_failure(symbol_id, "file_unreadable",
                                                f"cannot read {record.file_path}: {exc}",
                                                path=record.file_path)
            return "stale"
        request, redactions = self._outbound(request)
        try:
            sir = await self.provider.generate(request)
        except (asyncio.CancelledError, SpendCapReached):
            raise
        except ProviderError as exc:
            await self._fail(record, exc.kind, str(exc))
            return "stale"
        except Exception as exc:  # a provider bug must cost one symbol, never the run
            log.exception("provider %s crashed on %s", self.provider.name, record.qualified_name)
            await self._fail(record, "internal", f"{type(exc).__name__}: {exc}")
            return "stale"
        finally:
            await self._write_ledger()
        static = self.provider.name == "static"
        checked: str | None = None
        if not static:
            sir, checked = await self._verified(request, sir)
        await self.store.record_sir_success([NewSir(
            symbol_id, PreparedSir.of(sir, redactions=redactions), request.content_hash,
            self.provider.name, self.provider.model,
            prompt_version="" if static else PROMPT_VERSION, verification=checked)])
        return "ok"

    async def _verified(self, request: SirRequest, sir: Sir) -> tuple[Sir, str | None]:
        """The model's SIR checked against the static facts of the same code; when more of
        its claims than `verify_retry_share` are not found in the code, asked once more with
        the facts in the prompt, and the answer kept with its flag. Confidence is adjusted."""
        try:
            facts = await StaticProvider().generate(request)
        except ProviderError:  # no static facts for this code: nothing to check against
            return sir, None
        context = "\n".join(request.context)
        result = verify(sir, facts, request.source, context)
        retried = False
        if result.checked >= 2 and result.unsupported_share > self.verify_retry_share:
            again = replace(request,
                                        context=[*request.context, facts_for_prompt(facts)])
            try:
                second = await self.provider.generate(again)
            except (TimeoutError, ProviderError):  # a cap, an outage: keep the first
                log.info("verification retry for %s not made", request.qualified_name)
            else:
                sir, retried = second, True
                result = verify(sir, facts, request.source, context)
            finally:
                await self._write_ledger()
        sir = sir.model_copy(update={"confidence": adjusted_confidence(sir.confidence, result)})
        return sir, json.dumps({**result.as_dict(), "retried": retried})

    async def _write_ledger(self) -> None:
        if self.meter is not None:
            await self.store.append_usage(self.meter.drain())

    def _outbound(self, request: SirRequest) -> tuple[SirRequest, int]:
        """The request as it may leave the machine: hard-coded credentials in the source and
        context masked. The offline static provider reads the code as it is (its SIR is
        masked before it is stored, like every SIR)."""
        if self.provider.name == "static":
            return request, 0
        source, count = redact_secrets(request.source)
        context = []
        for line in request.context:
            clean, n = redact_secrets(line)
            context.append(clean)
            count += n
        signature, n = redact_secrets(request.signature)
        return replace(request, source=source, context=context, signature=signature), count + n

    async def _fail(self, record: SymbolRecord, kind: str, message: str) -> None:
        text = one_line(scrub_secrets(message, self.secrets))
        if text in self._logged:
            log.debug("SIR failed for %s (%s): %s", record.qualified_name, kind, text)
        else:
            self._logged.add(text)
            log.warning("SIR failed for %s (%s): %s", record.qualified_name, kind, text)
        await self.store.record_sir_failure(record.id, kind, f"{kind}: {text}",
                                            path=record.file_path)

    async def request_for(self, record: SymbolRecord) -> SirRequest:
        """The request a provider is given for this symbol (raises SymbolChanged, OSError)."""
        data = await asyncio.to_thread((self.root / record.file_path).read_bytes)
        chunk = data[record.start_byte:record.end_byte]
        if content_hash(chunk) != record.content_hash:
            raise SymbolChanged(record.id)
        context: list[str] = []
        imports = await self.store.file_imports(record.file_path)
        if imports:
            context.append("imports: " + ", ".join(imports[:40]))
        if "." in record.qualified_name:
            parent = record.qualified_name.rsplit(".", 1)[0]
            for p in await self.store.symbols_by_qualified_name(parent):
                if p.file_path == record.file_path:
                    context.append(f"enclosing {p.kind}: {p.signature}")
                    break
        return SirRequest(
            symbol_id=record.id, language=record.language, file_path=record.file_path,
            kind=record.kind, qualified_name=record.qualified_name, signature=record.signature,
            source=chunk.decode("utf-8", errors="replace"), content_hash=record.content_hash,
            context=context,
        )
