"""What masking credentials costs a cold index: the redaction of every static SIR and every
signature, against the parse + static analysis of the same files, in one process.

    python bench/redaction.py [PATH]      (default: this interpreter's standard library)

Prints both CPU times, the ratio, and how many values were masked (on the standard library,
those are mostly test fixtures holding keys and hashes on purpose).
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from pathlib import Path

from aether.redaction import redact_secrets
from aether.sir.model import Sir
from aether.sir.static import analyze_with_sirs
from aether.workspace import iter_source_files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    root = Path(parser.parse_args().path).resolve()
    files = [(f, (root / f.rel_path).read_bytes()) for f in iter_source_files(root)]
    analysed = []
    started = time.process_time()
    for f, data in files:
        try:
            analysed.append(analyze_with_sirs(f.rel_path, f.language, data))
        except Exception:  # a file the indexer would skip
            continue
    analysis_s = time.process_time() - started
    sirs = [Sir.model_validate(d) for _, found in analysed for d in found.values()]
    signatures = [s.signature for analysis, _ in analysed for s in analysis.symbols]
    started = time.process_time()
    masked = sum(sir.redacted()[1] for sir in sirs)
    masked += sum(redact_secrets(sig)[1] for sig in signatures)
    redaction_s = time.process_time() - started
    print(f"files {len(analysed)}, symbols {len(sirs)}, "
          f"{sum(len(d) for _, d in files) / 1e6:.1f} MB")
    print(f"parse + static SIRs   {analysis_s:8.2f} s CPU")
    print(f"redaction             {redaction_s:8.2f} s CPU  ({masked} values masked)")
    print(f"redaction / analysis  {redaction_s / analysis_s:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
