"""Cost of one rate limit check per request, per store: ``python -m benchmarks.rate_limits``.

Each request of a merchant makes one ``RateLimiter.hit`` (two for the expensive operations). Two
processes hit the same account at once, as two gunicorn workers do; printed with the load average
(the machine may be shared: compare figures of one run only). Redis: TEST_REDIS_URL or 127.0.0.1:6379.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import uuid

from infra.runtime.rate_limits import RateLimiter

from gateway_api.domain.rate_limits import account_policy

HITS = int(os.environ.get("BENCH_RATE_LIMIT_HITS", "5000"))


def _worker(url: str, prefix: str, results) -> None:
    limiter, policy = RateLimiter(url, prefix), account_policy(1_000_000)
    limiter.hit(policy, "warm-up")
    started = time.perf_counter()
    for _ in range(HITS):
        limiter.hit(policy, "acct_bench")
    results.put((time.perf_counter() - started) / HITS)


def measure(url: str, processes: int) -> float:
    results, prefix = multiprocessing.Queue(), f"bench-{uuid.uuid4().hex}"
    workers = [multiprocessing.Process(target=_worker, args=(url, prefix, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(results.get() for _ in workers) / processes


def main() -> None:
    folder = tempfile.mkdtemp(prefix="bench-rate-limits-")
    stores = {
        "memory:// (one process)": "memory://",
        "sqlite (make run)": f"sqlite:///{folder}/rate-limits.db",
        "redis": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
    }
    print(f"load average before: {os.getloadavg()}")
    for name, url in stores.items():
        for processes in (1, 2):
            if url == "memory://" and processes == 2:
                continue
            print(
                f"{name:28s} {processes} process(es): {measure(url, processes) * 1e6:7.1f} us per check "
                f"(load {os.getloadavg()[0]:.2f})"
            )


if __name__ == "__main__":
    main()
