"""The build's process plumbing, in one place: how many cores it may use, a pool of forked
workers for many small tasks, and a stage forked to run beside the build.

Forking lets workers inherit the catalog (nothing is pickled but what comes back), and both
helpers degrade to running in this process where fork is missing (Windows; macOS spawns by
default but has fork), where the system refuses to fork (a process limit), or where there is
one core, so every caller gets the same results either way (tests/test_platforms.py builds
the seeds with each of these fallbacks forced and compares the sites byte for byte).
Workers ignore Ctrl-C: a terminal sends it to the whole process group, and the build, which
ends its workers itself, is the one to report it.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import signal
import tempfile
import traceback
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")
MAX_WORKERS = 4
# Tasks a worker may be ahead of the caller by: what the workers make waits for the caller to take
# it (pool.imap would queue every result: at 300,000 papers, GBs of pages the writer has not
# reached yet).
AHEAD = 4


def cpu_count() -> int:
    """The cores this process may run on: os.process_cpu_count() (Python 3.13+), else the
    affinity mask where the platform has one (Linux), else os.cpu_count()."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0)) or 1
        except OSError:  # a sandbox that hides the mask: count the machine's cores instead
            pass
    return os.cpu_count() or 1


def keep_heap() -> None:
    """Tell the garbage collector that what exists now (dumps, catalog, jobs: millions of
    objects at 30,000 papers) lives until the build ends, so its collections stop walking them
    again and again (about a third of the catalog's and the jobs' time at that size). Frozen
    objects are not written to by the collector either, so forked workers share their pages
    instead of copying them. release_heap() gives them back to the collector."""
    gc.freeze()


@contextmanager
def kept_heap() -> Iterator[None]:
    """Build what will live until the build ends (dumps, catalog, jobs) with the collector
    paused, then keep it (keep_heap). Collections while millions of long-lived objects are made
    find no garbage, and cost ~0.2 s of the catalog's ~0.8 s at 30,000 papers."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
        keep_heap()


def release_heap() -> None:
    """After a build: `serve` builds again in the same process, so what a build kept must go."""
    gc.unfreeze()


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


_STATE: Any = None  # what a forked worker inherited (one per process)


def _adopt(state: Any) -> None:
    global _STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE = state


def _call(task: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    function, item = task
    return function(_STATE, item)


def forked_map(function: Callable[[Any, T], R], items: list[T], state: Any, *, enough: bool) -> Iterator[R]:
    """function(state, item) for each item, in order. With `enough` work to pay for starting
    them, in up to MAX_WORKERS forked workers that inherit `state` (function must be a
    module-level function: it travels by name), at most AHEAD tasks each ahead of the caller;
    otherwise in this process."""
    workers = min(cpu_count(), MAX_WORKERS, len(items))
    pool = None
    if enough and workers >= 2 and can_fork():
        try:
            pool = mp.get_context("fork").Pool(workers, initializer=_adopt, initargs=(state,))
        except OSError:  # the system would not fork (EAGAIN: a process limit; ENOMEM)
            pool = None
    if pool is None:
        for item in items:
            yield function(state, item)
        return
    with pool:
        window: deque = deque()  # results asked for and not yet taken: at most AHEAD per worker
        for item in items:
            if len(window) == AHEAD * workers:
                yield window.popleft().get()
            window.append(pool.apply_async(_call, ((function, item),)))
        while window:
            yield window.popleft().get()


class Forked:
    """A stage run in a forked process while this one goes on: the search index is computed
    while pages are rendered and written, instead of after them.

    The child inherits the catalog by fork and makes its files, writing them in batches, as
    they come, to an unnamed temporary file (in `spill`, a folder on the output's disk) that the
    two processes share; once it is done it says so through a pipe, and files() reads them back.
    So the child holds no more than a batch (at 300,000 papers a stage's files are ~1 GB), and it
    never waits for this process, which reads them only after rendering every page. Where fork
    is unavailable or refused, or there is one core, the stage simply runs when files() is
    iterated."""

    BATCH = 256  # files per batch

    def __init__(self, make: Callable[[], Iterable[Any]], nice: int = 5, spill: str | os.PathLike | None = None):
        self.make, self.nice = make, nice
        self.pid = 0
        if can_fork() and cpu_count() > 1:
            self.receive, send = mp.Pipe(duplex=False)
            self.spilled = tempfile.TemporaryFile(dir=spill)
            try:
                self.pid = os.fork()
            except OSError:  # the system would not fork (EAGAIN: a process limit; ENOMEM): run here
                self.receive.close()
                self.spilled.close()
            else:
                if self.pid == 0:
                    self.receive.close()
                    self.child(send)
            send.close()

    def child(self, send) -> None:
        """Make the files, spill them, say how many batches, and leave without running the
        parent's exit handlers.

        The child yields the CPU to the build's own process (by `nice`, +5 unless told, where
        the platform has it): that one renders and writes every page, which is what the build
        waits for; a stage beside it only has to be done by the time the writing is (or, for
        one the pages wait for, yields less)."""
        status = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if hasattr(os, "nice"):
                try:
                    os.nice(self.nice)
                except OSError:  # a sandbox that forbids it: run at the build's own priority
                    pass
            batches, batch = 0, []
            for item in self.make():
                batch.append(item)
                if len(batch) == self.BATCH:
                    pickle.dump(batch, self.spilled, pickle.HIGHEST_PROTOCOL)
                    batches, batch = batches + 1, []
            pickle.dump(batch, self.spilled, pickle.HIGHEST_PROTOCOL)
            self.spilled.flush()
            send.send(("done", batches + 1))
        except BaseException as exc:  # hand the failure to the parent, which reports it
            status = 1
            try:
                send.send(("error", exc))
            except Exception:
                send.send(("error", RuntimeError(traceback.format_exc())))
        finally:
            os._exit(status)

    def value(self):
        """The one thing a stage that makes a single value made (it makes a list of one)."""
        (found,) = list(self.files())
        return found

    def files(self) -> Iterator[Any]:
        if not self.pid:
            yield from self.make()
            return
        try:
            kind, payload = self.receive.recv()
        except EOFError:
            raise RuntimeError("a forked build stage ended without its results") from None
        if kind == "error":
            raise payload
        self.spilled.seek(0)  # (the child is done with the file: its offset is this process's again)
        for _ in range(payload):
            yield from pickle.load(self.spilled)

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc_info) -> None:
        """End the child (it is done already, unless the build failed or was interrupted)."""
        if self.pid:
            self.receive.close()
            self.spilled.close()
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0
