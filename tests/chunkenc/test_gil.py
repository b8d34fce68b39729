"""decode_xor_many releases the GIL while it decodes (the contract: "with the GIL
released while decoding"): another Python thread keeps running meanwhile."""

from __future__ import annotations

import threading
import time

from thanos_rs.chunkenc import decode_xor_many

from support import anchors


def test_other_threads_run_during_a_large_decode():
    chunks = anchors.load() * 10  # 30,000 chunks: tens of milliseconds of decoding
    for _attempt in range(3):
        done = threading.Event()
        ticks: list[float] = []

        def spin():  # runs only within this attempt (joined below)
            while not done.is_set():  # noqa: B023
                ticks.append(time.perf_counter())  # noqa: B023

        other = threading.Thread(target=spin)
        other.start()
        time.sleep(0.01)
        start = time.perf_counter()
        decode_xor_many(chunks)
        end = time.perf_counter()
        done.set()
        other.join()
        # Python bytecode ran in the middle half of the call: impossible had the
        # call held the GIL throughout. (A few tries: on a busy machine the other
        # thread may not get a core in that window.)
        quarter = (end - start) / 4
        if any(start + quarter < t < end - quarter for t in ticks):
            return
    raise AssertionError("no other thread ran while decode_xor_many decoded")
