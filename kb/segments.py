"""Parallel ingest: worker processes that each analyse documents and write their own segment.

The parent reads files, decides what needs indexing and holds the index lock; each worker runs
the whole per-document pipeline (read -> clean -> metadata -> analysis) *and* writes its own
Whoosh segment, so both cores share the heavy part. At a commit the parent collects the workers'
finished segments and writes them into the index's table of contents in one atomic step: until
then they are unreferenced files, removed by the next commit if anything dies.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
from collections import deque
from multiprocessing import connection
from pathlib import Path

from kb.errors import WorkerDied

_POLL_SECONDS = 1.0


def start_method() -> str:
    """How worker processes start. Forked on Linux from a process with no other thread: a forked
    worker has every module the parent imported (a spawned one imports them again: ~0.25 s to its
    first document, a twentieth of an 800-document batch). Spawned anywhere else: forking a process
    that runs threads (a web server, a progress monitor) can leave a child holding a lock no thread
    will release. ``KB_WORKER_START=spawn`` always spawns. The team is started before the index lock
    is taken, so no child holds it (``kb.ingest``)."""
    if os.environ.get("KB_WORKER_START", "").lower() == "spawn":
        return "spawn"
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods() \
            and threading.active_count() == 1:
        return "fork"
    return "spawn"


def progress_bar(**options):
    """A tqdm bar without the monitor thread tqdm starts for every bar, even a disabled one: the
    ingest that shows it stays single-threaded, so its workers can be forked (``start_method``)."""
    from tqdm import tqdm

    return type("Bar", (tqdm,), {"monitor_interval": 0})(**options)


def _worker(index_dir: str, conn, max_postings: int, parent_pid: int):
    from kb import index as kbindex
    from kb.errors import ReadError
    from kb.pipeline import prepare_or_error, warm_worker
    from kb.whoosh_adapter import FastWriter

    die_with_parent(parent_pid)
    # The cyclic garbage collector would walk the growing posting pool again and again (a fifth
    # of the time); what we build is acyclic, so collect by hand after each segment instead.
    gc.disable()
    warm_worker()
    ix = kbindex.open_index(Path(index_dir))
    store = kbindex.OriginalsStore.beside(Path(index_dir))
    writer = None
    finished = []
    while True:
        try:
            if not conn.poll(_POLL_SECONDS):
                if os.getppid() != parent_pid:  # the parent died (kill -9): stop, leave no process behind
                    return
                continue
            message = conn.recv()
        except (EOFError, OSError):  # the parent closed its end, or died
            return
        if message is None:
            break
        kind = message[0]
        if kind == "doc":
            _, seq, args = message
            fields, error = prepare_or_error(args)
            if error is None:
                try:
                    if writer is None:
                        writer = FastWriter(ix, _lk=False)
                    store.put(fields["sha"], Path(args[0]).suffix, args[1])
                    writer.add_document(**fields)
                except Exception as exc:  # a failure to index one file must not stop the batch
                    error = ReadError(args[0], f"cannot index: {type(exc).__name__}: {exc}")
            warnings = list((fields or {}).get("meta", {}).get("warnings") or []) if error is None else []
            conn.send(("done", seq, fields["id"] if error is None else None, error, warnings))
            if writer is not None and writer.items >= max_postings:
                finished.append(_finalize(writer))
                writer = None
        elif kind == "flush":
            if writer is not None:
                segment = _finalize(writer)
                if segment is not None:
                    finished.append(segment)
                writer = None
            conn.send(("segments", message[1], finished))
            finished = []
    if writer is not None:
        writer.cancel()


def die_with_parent(parent_pid: int, signum: int | None = None) -> None:
    """Ask the kernel to end this worker the moment its parent dies (Linux: PR_SET_PDEATHSIG; with
    ``signum``, default SIGKILL), so a killed ingest (or server parent) leaves no worker behind even
    mid-document; elsewhere an ingest worker notices at its next poll."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL if signum is None else signum)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _finalize(writer):
    """The writer's finished segment (None if it holds no documents), memory collected after."""
    from kb.whoosh_adapter import finalize_segment

    segment = finalize_segment(writer)
    gc.collect()
    return segment


def _died(names: list[str], doing: str) -> str:
    return (f"ingest worker {', '.join(names)} died {doing} (killed, or out of memory?): the documents since "
            "the last commit are not in the index, everything committed before is intact; run the ingest again")


class SegmentWorkers:
    """A team of segment-writing worker processes. Use as a context manager.

    Each worker has its own two-way pipe: documents go down it, results come back up it, and the
    parent waits on all pipes and on the processes at once (``multiprocessing.connection.wait``), so
    a worker that dies is noticed at once. Pipes, not queues: a queue adds a feeder thread and two
    locks per message, ~0.3 ms of a document's round trip on each side."""

    def __init__(self, index_dir: Path, count: int, max_postings: int, window: int = 4):
        self.count = count
        self.window = window  # documents in flight per worker: bounds memory (and what a pipe holds)
        self.start_method = start_method()
        context = multiprocessing.get_context(self.start_method)
        self.in_flight = [0] * count
        self.owner: dict[int, int] = {}
        self._received: deque = deque()  # (worker, message) read but not yet handed out
        self.conns = []
        self.processes = []
        for i in range(count):
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(target=_worker, args=(str(index_dir), theirs, max_postings, os.getpid()),
                                      daemon=True, name=f"kb-segment-{i}")
            process.start()
            theirs.close()  # the worker's end lives in the worker: a dead worker's pipe reads as closed
            self.conns.append(ours)
            self.processes.append(process)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def has_room(self) -> bool:
        return min(self.in_flight) < self.window

    def submit(self, seq: int, args) -> None:
        worker = min(range(self.count), key=self.in_flight.__getitem__)
        self.in_flight[worker] += 1
        self.owner[seq] = worker
        self._send(worker, ("doc", seq, args))

    def pending(self) -> int:
        return sum(self.in_flight)

    def next_result(self):
        """``(seq, doc_id, error, warnings)`` of the next finished document."""
        while True:
            _, message = self._receive("unexpectedly")
            if message[0] == "done":
                _, seq, doc_id, error, warnings = message
                self.in_flight[self.owner.pop(seq)] -= 1
                return seq, doc_id, error, warnings

    def _send(self, worker: int, message) -> None:
        try:
            self.conns[worker].send(message)
        except OSError:  # its end is closed: it died
            raise WorkerDied(_died([self.processes[worker].name], "unexpectedly")) from None

    def _receive(self, doing: str):
        """``(worker, message)``: the next message from any worker. A worker that died never
        answers: its process's sentinel wakes the wait, and what it sent before is read first."""
        while not self._received:
            ready = set(connection.wait([*self.conns, *(p.sentinel for p in self.processes)]))
            for i, conn in enumerate(self.conns):
                if conn in ready:
                    try:
                        while conn.poll():
                            self._received.append((i, conn.recv()))
                    except (EOFError, OSError):
                        pass  # closed: its process's sentinel says so
            if not self._received:
                dead = [p.name for p in self.processes if p.sentinel in ready or not p.is_alive()]
                if dead:
                    raise WorkerDied(_died(dead, doing))
        return self._received.popleft()

    def collect_segments(self) -> list:
        """Every worker's finished segments (call when nothing is in flight)."""
        assert not self.pending()
        for i in range(self.count):
            self._send(i, ("flush", i))
        answers: dict[int, list] = {}
        while len(answers) < self.count:
            worker, message = self._receive("while writing a segment")
            if message[0] == "segments":
                answers[worker] = message[2]
        return [segment for worker in sorted(answers) for segment in answers[worker]]  # the same order every run

    def close(self):
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        for conn in self.conns:
            conn.close()
