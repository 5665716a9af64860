"""Logging: stderr plus a rotating file in `.aether/logs/`. Never stdout: in `lsp`/`mcp`
mode stdout belongs to the protocol."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from aether.providers.redact import scrub_secrets

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ScrubFilter(logging.Filter):
    """Last line of defence: whatever a log line says, known secrets never reach a file."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_secrets(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def setup_logging(log_dir: Path | None, *, level: int = logging.WARNING,
                  file_level: int = logging.INFO, secrets: list[str] | None = None) -> None:
    root = logging.getLogger("aether")
    root.setLevel(min(level, file_level))
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    scrub = _ScrubFilter(secrets or [])
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(level)
    stderr.setFormatter(logging.Formatter(_FORMAT))
    stderr.addFilter(scrub)
    root.addHandler(stderr)
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(
                log_dir / "aether.log", maxBytes=5 * 1024 * 1024, backupCount=3,
                encoding="utf-8")
        except OSError:
            return  # a read-only workspace still gets stderr logs
        fh.setLevel(file_level)
        fh.setFormatter(logging.Formatter(_FORMAT))
        fh.addFilter(scrub)
        root.addHandler(fh)
    root.propagate = False
