"""A background daemon thread per process, started on first use.

gunicorn forks its workers from a master that has imported the app, and a fork keeps only the
thread that called it: a thread started at import time would run in the master alone. So each
of these threads starts the first time a process needs it, again in a forked child that needs
it, and never twice in one process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    def __init__(
        self,
        target: Callable[[], None],
        *,
        name: str,
        before_start: Callable[[], None] | None = None,
    ) -> None:
        """`target` runs in the thread; `before_start`, if given, runs under the start lock
        just before each start (to reset state a parent process left behind)."""
        self._target = target
        self._name = name
        self._before_start = before_start
        self._lock = threading.Lock()
        self._pid: int | None = None

    @property
    def running_here(self) -> bool:
        """Whether this process has started its thread."""
        return self._pid == os.getpid()

    def ensure_started(self) -> bool:
        """Start this process's thread unless it runs already; True if it started now."""
        if self.running_here:
            return False
        with self._lock:
            if self.running_here:
                return False
            if self._before_start is not None:
                self._before_start()
            self._pid = os.getpid()
            threading.Thread(target=self._target, name=self._name, daemon=True).start()
            return True
