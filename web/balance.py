"""Connections shared evenly among server processes (``kb serve --processes N``).

The processes accept on one listening socket. Left to the kernel, whichever process wakes first
takes a new connection, and a keep-alive connection stays where it landed: at 50 bench clients one
of two processes held 34, and their requests waited twice as long as the other 16's (the p99 is
theirs). So a process accepts only while it holds no more connections than the least loaded one
(nginx's ``least_conn``). The counts live in memory shared by the forked processes; a process whose
count changes wakes the others (a byte down each one's pipe), so that no process sleeps in
``select`` on a decision made before the counts changed while nobody else is listening.
"""

from __future__ import annotations

import mmap
import os

from waitress import wasyncore


class _Woken(wasyncore.file_dispatcher):
    """Our end of the pipe the other processes write to: a byte wakes waitress's loop, which
    then asks ``readable`` again with fresh counts."""

    def handle_read(self):
        try:
            self.recv(4096)
        except OSError:
            pass

    def writable(self):
        return False


class ConnectionBalance:
    """Made in the parent before forking; each server process calls ``attach`` with its slot."""

    def __init__(self, processes: int):
        self._shared = mmap.mmap(-1, 8 * processes)  # anonymous and shared: seen by forked children
        self.counts = memoryview(self._shared).cast("q")
        self.pipes = [os.pipe() for _ in range(processes)]
        for _, write_end in self.pipes:
            os.set_blocking(write_end, False)

    def close(self) -> None:
        """The parent's ends of the pipes (it only watches its children)."""
        for read_end, write_end in self.pipes:
            os.close(read_end)
            os.close(write_end)

    def attach(self, server, slot: int) -> None:
        """Make waitress ``server`` (one listening socket) accept only while it is least loaded."""
        counts, wake = self.counts, [w for i, (_, w) in enumerate(self.pipes) if i != slot]
        for i, (read_end, write_end) in enumerate(self.pipes):  # keep the others' write ends only
            os.close(write_end if i == slot else read_end)
        _Woken(self.pipes[slot][0], map=server._map)  # reads a duplicate of our read end
        os.close(self.pipes[slot][0])
        base = len(server._map)  # the listener, waitress's trigger and our pipe: not connections
        accepting = server.readable
        last = -1

        def readable() -> bool:  # asked by waitress's loop before every select
            nonlocal last
            mine = len(server._map) - base
            if mine != last:
                counts[slot] = last = mine
                for fd in wake:
                    try:
                        os.write(fd, b"\0")
                    except (BlockingIOError, BrokenPipeError):  # already woken, or gone (stopping)
                        pass
            return accepting() and mine <= min(counts)

        server.readable = readable
