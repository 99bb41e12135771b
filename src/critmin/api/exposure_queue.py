"""The exposure GETs' misses answered in batches, off the request path.

A GET whose document is not in memory hands its key to this process's :class:`ExposureQueue` and awaits the
answer on the event loop (no thread of the request pool is held). A read lane looks up, in one read, every
key handed over while it answered the previous batch (the key's live job through the jobs table's unique
live-key index: its stored document, or its id to poll); the first time a (year, group) is looked up in
the process, that read also takes the stored documents of its table and of every material and stage
(they are asked together: a page, a restart) into memory. The keys without a job go to a write lane that
queues them all in one write transaction, so 50 misses at once cost a few commits, not 50 serialized
ones. The same key asked twice meanwhile is looked up and queued once. Each lane's thread ends after
:data:`IDLE_SECONDS` without work and starts again on the next key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from critmin.api.exposure_jobs import (
    ExposureJobParams,
    Found,
    hold,
    lookup,
    params_key,
    queue_many,
    scope_params,
)
from critmin.store import Store

IDLE_SECONDS = 5.0
SCOPES_HELD = 256  # (edition, year, group) whose stored documents were read; forgotten all at once beyond


@dataclass
class _Item:
    params: ExposureJobParams
    futures: list[Future[Found]] = field(default_factory=list)


Batch = dict[str, _Item]


def _answer(item: _Item, found: Found) -> None:
    for future in item.futures:
        if not future.done():
            future.set_result(found)


class _Lane:
    """One thread that handles, all at once, every key put while it handled the previous batch."""

    def __init__(self, name: str, handle: Callable[[Batch], None]) -> None:
        self._name = name
        self._handle = handle
        self._cond = threading.Condition()
        self._items: Batch = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def put(self, key: str, params: ExposureJobParams, futures: list[Future[Found]]) -> None:
        with self._cond:
            if self._closed:  # the service is stopping: the request gets an error, not a hang
                for future in futures:
                    future.set_exception(RuntimeError("exposure queue closed: the service is stopping"))
                return
            self._items.setdefault(key, _Item(params)).futures.extend(futures)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name=self._name)
                self._thread.start()
            self._cond.notify()

    def close(self) -> None:
        """Take no more keys and wait for the thread to finish its batch (before the store is disposed:
        no connection is left checked out)."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify()
        if thread is not None:
            thread.join()

    def _next(self) -> Batch | None:
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(IDLE_SECONDS)
            if not self._items:
                self._thread = None  # a later put starts a new thread
                return None
            batch, self._items = self._items, {}
            return batch

    def _run(self) -> None:
        while (batch := self._next()) is not None:
            try:
                self._handle(batch)
            except Exception as exc:  # the database failed: every waiting request gets the error
                for item in batch.values():
                    for future in item.futures:
                        if not future.done():
                            future.set_exception(exc)


class ExposureQueue:
    """This process's exposure misses: :meth:`submit` a key, get a future of its :class:`Found`;
    ``notify`` wakes the exposure worker when a batch queued a job."""

    def __init__(self, store: Store, notify: Callable[[], None]) -> None:
        self._store = store
        self._notify = notify
        self._writes = _Lane("exposure-queue", self._queue)
        self._reads = _Lane("exposure-lookup", self._lookup)
        self._scopes: set[tuple[str, int, str]] = set()  # read once (lookup thread only)

    def close(self) -> None:
        """Stop both lanes (the lookups first: they hand keys to the writes) after their current batch."""
        self._reads.close()
        self._writes.close()

    def warm(self, params: ExposureJobParams) -> None:
        """Look ``params`` up once, in this thread (``critmin serve`` does it before serving): the first
        miss of a process then finds its connection, statements and service account ready."""
        lookup(self._store, [params])

    def submit(self, params: ExposureJobParams) -> Future[Found]:
        """The key's live job (its stored document once it succeeded), queued when it has none."""
        future: Future[Found] = Future()
        self._reads.put(params_key(params), params, [future])
        return future

    def _siblings(self, batch: Batch) -> list[ExposureJobParams]:
        """The table and every detail of each (edition, year, group) of ``batch`` not read before."""
        scopes = {(i.params.edition, i.params.year, i.params.group) for i in batch.values()} - self._scopes
        if not scopes:
            return []
        if len(self._scopes) + len(scopes) > SCOPES_HELD:
            self._scopes.clear()
        self._scopes |= scopes
        return [p for ed, y, g in sorted(scopes) for p in scope_params(ed, y, g)]

    def _lookup(self, batch: Batch) -> None:
        siblings = self._siblings(batch)
        found = lookup(self._store, [item.params for item in batch.values()] + siblings)
        for p in siblings:
            stored = found.get(params_key(p))
            if stored is not None and stored.stored is not None and params_key(p) not in batch:
                hold(p, stored.stored)
        for key, item in batch.items():
            if key in found:
                _answer(item, found[key])
            else:
                self._writes.put(key, item.params, item.futures)

    def _queue(self, batch: Batch) -> None:
        done = queue_many(self._store, [item.params for item in batch.values()])
        if any(f.created for f in done.values()):
            self._notify()
        for key, item in batch.items():
            _answer(item, done[key])
