"""How `aether/store/sir_words_v2.dict` was made, and what it saves on a store it never saw.

    pip install zstandard    (this script only: aether itself reads the file with zlib)
    python bench/sir_dictionary.py --train DB [DB ...] --test DB [--out FILE]

DB: `.aether/aether.db` files of cold indexes (`python bench/store.py PATH --keep DIR`). The
shipped dictionary was trained on this interpreter's standard library and seven packages in
other languages (express, libfmt, guzzlehttp/psr7, rack, rxjs, pythonnet, brotli) and tested
on Django 5.2. Trains zstd's COVER dictionary on the SIR values of the --train stores (their
stored layout, `json NUL intent LF other`), keeps its last 32 KB (deflate's window; the most
useful strings come last), and prints the bytes of the --test store's SIRs packed with the
old dictionary and with the new one. Writes the dictionary to --out only when asked: the
shipped file never changes (add a format instead, aether.store.packing).
"""

from __future__ import annotations

import argparse
import sqlite3
import zlib
from pathlib import Path

from aether.store.packing import _DICT_V1, _LEVEL, _text

WINDOW = 32 * 1024


def sir_values(db: Path) -> list[bytes]:
    conn = sqlite3.connect(db)
    try:
        return [_text(v).encode() for (v,) in conn.execute("SELECT sir_json FROM sir")]
    finally:
        conn.close()


def packed_bytes(dictionary: bytes, values: list[bytes]) -> int:
    base = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    total = 0
    for v in values:
        co = base.copy()
        total += 1 + len(co.compress(v) + co.flush())
    return total


def main() -> None:
    import zstandard  # type: ignore[import-not-found]

    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=Path, nargs="+", required=True)
    ap.add_argument("--test", type=Path, required=True)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    train = [v for db in args.train for v in sir_values(db)]
    trained = zstandard.train_dictionary(WINDOW + 1024, train).as_bytes()[-WINDOW:]
    test = sir_values(args.test)
    raw = sum(map(len, test))
    old, new = packed_bytes(_DICT_V1, test), packed_bytes(trained, test)
    print(f"train {len(train)} SIRs; test {len(test)} SIRs, {raw / 1e6:.2f} MB unpacked")
    print(f"packed with the 1.3 KB dictionary {old / 1e6:8.2f} MB")
    print(f"packed with the trained one       {new / 1e6:8.2f} MB   ratio {new / old:.3f}")
    if args.out:
        args.out.write_bytes(trained)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
