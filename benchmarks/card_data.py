"""What card-data encryption costs per message, in one process: ``python -m benchmarks.card_data``.

Times, over the benchmark's mixed transactions (BENCH_N, default 50,000): sealing a card as the API
does, and the processor's decoding of a whole message with the card encrypted (decrypt + read) next
to the same messages with the card in clear (ACCEPT_PLAINTEXT_CARDS=true). Same run, same machine:
the ratio holds even when the machine is busy; the end-to-end figures are `make bench-processor`'s.
"""

from __future__ import annotations

import json
import os
import sys
import time

from processor.__main__ import settle_garbage_collector
from processor.entrypoints.card_data import CardDataReader
from processor.entrypoints.decoding import decode
from tests.support.transactions import TEST_CIPHER, encrypted, mixed_transaction

REPEATS = 7


def best_per_message(jobs: dict, items: dict) -> dict[str, float]:
    """Microseconds per item for each job: the fastest of REPEATS passes, the jobs taking turns in
    every round, so a busy neighbour slows them alike rather than one of them."""
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(REPEATS):
        for name, work in jobs.items():
            started = time.perf_counter()
            for item in items[name]:
                work(item)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: seconds / len(items[name]) * 1e6 for name, seconds in best.items()}


def main() -> int:
    count = int(os.environ.get("BENCH_N", 50000))
    messages = [mixed_transaction(i)[0] for i in range(count)]
    clear = [json.dumps(m).encode() for m in messages]
    sealed = [json.dumps(encrypted(m)).encode() for m in messages]
    reader = CardDataReader(TEST_CIPHER, accept_plaintext=True)
    settle_garbage_collector()  # as the processor does: the collector walked the message lists otherwise
    card = {
        "number": "4111111111111111",
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": 2030,
        "cvv_length": 3,
    }
    costs = best_per_message(
        {
            "seal": lambda i: TEST_CIPHER.seal(card, f"tx-{i}", "acct_1", "10.50"),
            "clear": lambda raw: decode(raw, reader),
            "encrypted": lambda raw: decode(raw, reader),
        },
        {"seal": range(count), "clear": clear, "encrypted": sealed},
    )
    seal, plain, opened = costs["seal"], costs["clear"], costs["encrypted"]
    print(f"card data benchmark: {count} messages, best of {REPEATS} passes, {os.cpu_count()} CPUs")
    print(f"API seal           {seal:6.2f} us per card")
    print(
        f"processor decode   {plain:6.2f} us clear   {opened:6.2f} us encrypted   "
        f"(+{opened - plain:.2f} us, x{opened / plain:.2f})"
    )
    print(
        f"message size       {sum(map(len, clear)) / count:6.0f} B clear   {sum(map(len, sealed)) / count:6.0f} B encrypted"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
