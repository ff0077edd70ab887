"""Proof-of-work throughput: hashes/second per algorithm, on one thread and on one thread per core.

The second figure shows that hashing releases the GIL: with N threads it should approach N times the
first. Each measurement hashes a 76-byte blob with a changing nonce for a fixed time.

    python bench/pow.py                    # every algorithm, 3 s per measurement
    python bench/pow.py --algo cn-lite/1 --seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass

from athena_pool.pow import PowAlgorithm, algorithm_names, create_algorithm

BLOB = bytes.fromhex(
    "0305a0dbd6bf05cf16e503f3a66f78007cbf34144332ecbfc22ed95c8700383b309ace1923a0964b00000008ba939a62"
    "724c0d7581fce5761e9d8a0e6a1c3f924fdd8493d1115649c05eb601"
)
NONCE_OFFSET = 39
SEED = bytes(32)


@dataclass
class Result:
    algo: str
    threads: int
    hashes: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.hashes / self.seconds


def _worker(algorithm: PowAlgorithm, start_nonce: int, deadline: float, counts: list[int], slot: int) -> None:
    blob = bytearray(BLOB)
    nonce = start_nonce
    done = 0
    while time.perf_counter() < deadline:
        blob[NONCE_OFFSET : NONCE_OFFSET + 4] = nonce.to_bytes(4, "little")
        algorithm.hash(bytes(blob), height=1806260, seed=SEED)
        nonce += 1
        done += 1
    counts[slot] = done


def measure(algorithm: PowAlgorithm, threads: int, seconds: float) -> Result:
    algorithm.hash(BLOB, height=1806260, seed=SEED)  # warm up: scratchpads, RandomX cache and VMs
    counts = [0] * threads
    started = time.perf_counter()
    deadline = started + seconds
    workers = [
        threading.Thread(target=_worker, args=(algorithm, i << 24, deadline, counts, i))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return Result(algorithm.name, threads, sum(counts), time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--algo", action="append", help="algorithm (repeatable); default: all")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="the multi-thread figure")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    rows = []
    for name in args.algo or algorithm_names():
        algorithm = create_algorithm(name)
        try:
            one = measure(algorithm, 1, args.seconds)
            many = measure(algorithm, args.threads, args.seconds)
        finally:
            algorithm.close()
        rows.append((one, many))
        if not args.json:
            print(
                f"{name:16} 1 thread {one.rate:9.1f} H/s   {args.threads} threads {many.rate:9.1f} H/s"
                f"   scaling x{many.rate / one.rate:.2f}",
                flush=True,
            )
    if args.json:
        report = {
            "machine": {
                "cpus": os.cpu_count(),
                "processor": platform.processor(),
                "python": platform.python_version(),
            },
            "results": [
                {**asdict(one), "rate": one.rate, "rate_threads": many.rate, "threads_used": many.threads}
                for one, many in rows
            ],
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
