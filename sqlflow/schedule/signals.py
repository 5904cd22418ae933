"""The scheduler's signal handling: SIGTERM and SIGINT stop the claiming, a second one a second later
interrupts the runs. It reads no clock of its own (the loop passes `clock`); imports nothing from sqlflow.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def stop_signals(
    stop: threading.Event, force: threading.Event, wake: threading.Event, *, clock: Callable[[], float]
) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (a second one, a second later, `force`); only on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    first: list[float] = []

    def handle(signum: int, frame: object) -> None:
        # a second signal interrupts at once; one sent to the process and its group counts once
        if first and clock() - first[0] > 1.0:
            force.set()
        first[:1] = first[:1] or [clock()]
        stop.set()
        wake.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
