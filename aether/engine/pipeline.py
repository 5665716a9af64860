"""The SIR pipeline: symbols that need a SIR -> provider -> store, honouring the stale contract.

Success writes SIR + metadata in one transaction. Failure never touches the last good SIR:
the symbol is marked stale with a short, scrubbed `last_error` and the error is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from aether.hashing import content_hash
from aether.providers.base import Provider, SirRequest
from aether.providers.errors import ProviderError
from aether.providers.redact import scrub_secrets
from aether.secrets import redact_secrets
from aether.store.db import Store
from aether.store.records import NewSir, PreparedSir, SymbolRecord, one_line

log = logging.getLogger("aether.pipeline")

ProgressFn = Callable[[int, int], None]


@dataclass(slots=True)
class PipelineReport:
    attempted: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # the code moved on since the symbol was queued; the indexer requeues it


class SymbolChanged(Exception):
    """The bytes on disk no longer match the symbol the store knows."""


class SirPipeline:
    def __init__(self, store: Store, provider: Provider, root: Path, *,
                 workers: int = 1, secrets: Sequence[str] = ()) -> None:
        self.store = store
        self.provider = provider
        self.root = root
        self.workers = max(1, workers)
        self.secrets = [s for s in secrets if s]

    async def run(self, symbol_ids: Sequence[str],
                  progress: ProgressFn | None = None) -> PipelineReport:
        report = PipelineReport()
        queue: asyncio.Queue[str] = asyncio.Queue()
        for sid in dict.fromkeys(symbol_ids):  # dedupe, keep order
            queue.put_nowait(sid)
        total = queue.qsize()
        if progress:
            progress(0, total)

        async def worker() -> None:
            while True:
                try:
                    sid = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                status = await self.generate(sid)
                if status == "ok":
                    report.ok += 1
                elif status == "stale":
                    report.failed += 1
                else:
                    report.skipped += 1
                report.attempted += status != "skipped"
                if progress:
                    progress(report.attempted + report.skipped, total)

        await asyncio.gather(*(worker() for _ in range(min(self.workers, total) or 1)))
        return report

    async def generate(self, symbol_id: str) -> str:
        """One attempt (the guard inside the provider does the retrying). Returns the
        resulting status: ok | stale | skipped."""
        record = await self.store.symbol(symbol_id)
        if record is None:
            return "skipped"
        try:
            request = await self._request(record)
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
        except asyncio.CancelledError:
            raise
        except ProviderError as exc:
            await self._fail(record, exc.kind, str(exc))
            return "stale"
        except Exception as exc:  # a provider bug must cost one symbol, never the run
            log.exception("provider %s crashed on %s", self.provider.name, record.qualified_name)
            await self._fail(record, "internal", f"{type(exc).__name__}: {exc}")
            return "stale"
        await self.store.record_sir_success([NewSir(
            symbol_id, PreparedSir.of(sir, redactions=redactions), request.content_hash,
            self.provider.name, self.provider.model)])
        return "ok"

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
        log.warning("SIR failed for %s (%s): %s", record.qualified_name, kind, text)
        await self.store.record_sir_failure(record.id, kind, f"{kind}: {text}",
                                            path=record.file_path)

    async def _request(self, record: SymbolRecord) -> SirRequest:
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
