"""Run one callable from many threads at the same moment (for concurrency tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_at_once(count: int, fn: Callable[[int], Any], timeout: float = 60) -> list[Any]:
    """Call ``fn(0) … fn(count - 1)`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        results[n] = fn(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
