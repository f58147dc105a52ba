"""`parsers.chunks.map_in_order`: chunks parsed a few at a time, results in chunk order."""

from __future__ import annotations

import threading
import time

from parsers.chunks import map_in_order


def test_at_most_workers_run_at_once_and_results_come_in_order():
    running, most, lock = 0, 0, threading.Lock()
    handed_out = []

    def work(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02 if item % 2 else 0.005)  # out of order if results were yielded as done
        with lock:
            running -= 1
        return item * 10

    def items():
        for item in range(12):
            handed_out.append(item)
            yield item

    results = []
    for result in map_in_order(work, items(), in_flight=3, workers=2):
        # No more than `in_flight` handed out beyond what was yielded.
        assert len(handed_out) - len(results) <= 3
        results.append(result)
    assert results == [i * 10 for i in range(12)]
    assert most == 2


def test_a_single_worker_works_through_them_one_by_one():
    seen = []
    results = list(map_in_order(lambda item: seen.append(threading.get_ident()) or item, range(5), workers=1))
    assert results == list(range(5)) and len(set(seen)) == 1
