"""The exposure queue's lanes stop when the service stops: the current batch finishes, the thread ends
(no database connection is left checked out when the store is disposed), later keys get an error."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from critmin.api.exposure_jobs import ExposureJobParams, Found
from critmin.api.exposure_queue import Batch, _Lane


def test_close_finishes_the_batch_ends_the_thread_and_refuses_later_keys() -> None:
    started, release, handled = threading.Event(), threading.Event(), []

    def handle(batch: Batch) -> None:
        started.set()
        release.wait(10)
        for key, item in batch.items():
            handled.append(key)
            for f in item.futures:
                f.set_result(Found(key, "succeeded", "{}", False))

    lane = _Lane("test-lane", handle)
    first: Future[Found] = Future()
    lane.put("a", ExposureJobParams(), [first])
    assert started.wait(10)
    closer = threading.Thread(target=lane.close)
    closer.start()
    time.sleep(0.05)
    assert closer.is_alive()  # close waits for the batch in hand
    release.set()
    closer.join(10)
    assert not closer.is_alive() and handled == ["a"] and first.result(1).job == "a"
    assert not any(t.name == "test-lane" for t in threading.enumerate())
    late: Future[Found] = Future()
    lane.put("b", ExposureJobParams(), [late])
    with pytest.raises(RuntimeError, match="closed"):
        late.result(1)
    assert handled == ["a"]
