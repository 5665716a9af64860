"""Guard benchmark: N symbols through the guarded OpenAI-compatible provider against the
fault-injecting server, which enforces its own rate limit (a sliding window).

    python bench/guard.py [--symbols 200] [--rpm 600] [--server-limit 12/1] [--latency 0.05]
    python bench/guard.py --storm [--symbols 36] [--retry-after 0.5]

Prints the achieved request rate against the configured one (goal >= 0.9), the 429s the
server had to send (goal 0 while our limit is below the server's), and the highest
concurrency the server saw. The server's window (12 per second by default, i.e. 720/min) is
deliberately short: a limiter that bursts, or that releases a queue all at once, trips it.

`--storm`: every answer is a 429 with Retry-After (the case that once made 129 requests for 36
symbols). Prints the requests, the retry share against the retry budget's ~10% (plus its floor
of 3 a window), the lowest rate the adaptive limiter fell to, and the ratio of requests to the
unbudgeted bound (symbols x max_attempts) measured by the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakeprovider

from aether.config import InferenceSettings
from aether.guard import GuardedProvider
from aether.providers.base import SirRequest
from aether.providers.factory import make_provider
from tests.fakeprovider import FakeProvider


def _request(i: int) -> SirRequest:
    return SirRequest(
        symbol_id=f"{i:032x}", language="python", file_path=f"pkg/mod_{i % 17}.py",
        kind="function", qualified_name=f"pkg.mod_{i % 17}.func_{i}",
        signature=f"def func_{i}(a, b)", source=f"def func_{i}(a, b):\n    return a + b\n",
        content_hash=f"{i:x}", context=["imports: os"])


async def run(args: argparse.Namespace, server: FakeProvider) -> int:
    os.environ.pop("AETHER_BENCH_KEY", None)
    settings = InferenceSettings(
        provider="openai", model="bench", endpoint=server.endpoint("openai"),
        api_key_env="AETHER_BENCH_KEY", max_concurrency=args.concurrency,
        requests_per_minute=args.rpm, timeout_s=10, deadline_s=600, max_attempts=4,
        backoff_base_s=0.2, backoff_cap_s=5)
    provider = make_provider(settings)
    assert isinstance(provider, GuardedProvider)
    # The engine's pipeline runs 2 x max_concurrency workers; do the same.
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(args.symbols):
        queue.put_nowait(i)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            i = queue.get_nowait()
            try:
                await provider.generate(_request(i))
            except Exception as exc:  # counted and reported, never fatal to the bench
                failures += 1
                if not args.storm:
                    print(f"symbol {i} failed: {exc}", file=sys.stderr)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(2 * args.concurrency)))
    finally:
        await provider.aclose()
    elapsed = time.perf_counter() - started

    seen = server.requests()
    ok = [o.t for o in seen if o.status == 200]
    span = (ok[-1] - ok[0]) if len(ok) > 1 else 0.0
    # Rate between the first and the last request: N-1 intervals over the span.
    achieved = (len(ok) - 1) / span * 60 if span > 0 else 0.0
    snap = provider.guard.snapshot()
    if args.storm:
        requests = len(seen)
        share = (requests - args.symbols) / requests if requests else 0.0
        bound = args.symbols * settings.max_attempts
        print(f"429 storm          {args.symbols} symbols, Retry-After {args.retry_after:g} s, "
              f"{elapsed:.1f} s")
        print(f"requests           {requests} (every one a 429); unbudgeted bound {bound}  "
              f"ratio {requests / bound:.3f}")
        print(f"retry share        {share:.3f}  (budget 0.10 of attempts, floor 3 a window)")
        print(f"adaptive rate      {snap['current_rate_per_minute']:.0f}/min after "
              f"{snap['rate_decreases']} decreases (configured {args.rpm:.0f}/min)")
        print(f"symbols given up   {failures} (each keeps its last good SIR)")
        return 0
    print(f"symbols            {args.symbols} ({failures} failed) in {elapsed:.1f} s")
    print(f"requests seen      {len(seen)} ({len(ok)} ok)")
    print(f"configured rate    {args.rpm:.0f}/min  (server allows {args.server_limit})")
    print(f"achieved rate      {achieved:.1f}/min  ratio {achieved / args.rpm:.3f}  (goal >= 0.9)")
    print(f"429s provoked      {server.statuses().count(429)}  (goal 0)")
    print(f"max concurrency    server saw {server.max_in_flight}, guard saw "
          f"{snap['max_in_flight']}, limit {args.concurrency}")
    print(f"guard              {snap['requests']} requests, {snap['retries']} retries, "
          f"{snap['throttled_waits']} throttled waits, circuit {snap['circuit_state']}")
    return 0 if failures == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--rpm", type=float, default=600.0)
    parser.add_argument("--server-limit", default="12/1", help="N/SECONDS (sliding window)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--storm", action="store_true", help="every answer a 429")
    parser.add_argument("--retry-after", type=float, default=0.5, help="storm: seconds")
    args = parser.parse_args()
    if args.storm:
        if args.symbols == 200:
            args.symbols = 36
        with FakeProvider(default=f"429:{args.retry_after:g}") as fake:
            return asyncio.run(run(args, fake))
    n, _, window = args.server_limit.partition("/")
    with FakeProvider(latency_s=args.latency, rate_limit=(int(n), float(window or 60))) as fake:
        return asyncio.run(run(args, fake))


if __name__ == "__main__":
    raise SystemExit(main())
