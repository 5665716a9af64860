"""Parse workers exit when the process that owns them dies.

Workers are children of multiprocessing's fork server, not of the daemon, and each one
holds the write end of the server's "alive" pipe and of its own task queue: after a kill -9
of the daemon nothing ever tells them to stop, and they (with the fork server and the
resource tracker) would live on under PID 1. So every worker watches the daemon itself: a
pidfd (Linux) wakes a thread the moment it exits; elsewhere the thread polls the pid. A
parent-death signal would not do: the worker's parent is the fork server, which outlives
the daemon.
"""

from __future__ import annotations

import os
import select
import threading
import time

POLL_S = 0.5  # fallback only, where pidfds are missing


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int) -> None:
    pidfd_open = getattr(os, "pidfd_open", None)
    fd = None
    if pidfd_open is not None:
        try:
            fd = pidfd_open(pid)
        except OSError:
            fd = None  # already gone (ESRCH) or no kernel support: poll below
    if fd is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll()  # readable when the process exits
    else:
        while _alive(pid):
            time.sleep(POLL_S)
    os._exit(0)


def exit_with_parent(owner_pid: int) -> None:
    """ProcessPoolExecutor initializer: end this worker when `owner_pid` exits."""
    threading.Thread(target=_watch, args=(owner_pid,), name="aether-parent-watch",
                     daemon=True).start()
