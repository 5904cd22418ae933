"""Ctrl-C that reaches the engine at once, even while the main thread waits inside a statement.

Python runs its SIGINT handler only between bytecodes of the main thread, and DuckDB may take seconds to
look for it while it runs a statement there. `on_sigint(callback)` also has the C-level signal handler write
to a socket (`signal.set_wakeup_fd`) that a helper thread watches, so `callback` (the adapter's interrupt)
runs as soon as the signal arrives. KeyboardInterrupt is still raised as usual. A no-op off the main thread.

SIGTERM stops a run as SIGINT does inside `SignalsAsInterrupt()` (the run session holds it): its handler
raises `Terminated`, a KeyboardInterrupt, and `on_sigint` interrupts the engine for it too.

A run on another thread (the scheduler's) is stopped the same way through `watch_cancel`: setting an Event
raises KeyboardInterrupt in that thread and interrupts the engine.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so a run stops the same way (exit 143, not 130)."""


class SignalsAsInterrupt:
    """On the main thread, for the block: SIGTERM raises `Terminated`; `received` names the signal that
    arrived (SIGINT or SIGTERM), None when none did. The previous SIGTERM handler comes back after."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: signal.Handlers | object | None = None
        self._installed = False

    def __enter__(self) -> SignalsAsInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._terminate)
            self._installed = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, KeyboardInterrupt) and self.received is None:
            self.received = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]
            self._installed = False

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        self.received = "SIGTERM"
        raise Terminated()


@contextmanager
def on_sigint(callback: Callable[[], None]) -> Iterator[None]:
    """Inside the block, call `callback` from a helper thread whenever SIGINT (or SIGTERM, when a Python
    handler for it is installed: see `SignalsAsInterrupt`) arrives."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):
        reader.close()
        writer.close()
        yield
        return

    def watch() -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return  # the writer was closed: the block is over
            if any(sig in data for sig in STOP_SIGNALS):
                callback()

    watcher = threading.Thread(target=watch, name="sqlflow-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        writer.close()
        watcher.join(timeout=5)
        reader.close()


def watch_cancel(cancel: threading.Event, interrupt: Callable[[], None]) -> Callable[[], None]:
    """Until the returned function is called: once `cancel` is set, raise KeyboardInterrupt in the calling
    thread (as Ctrl-C does in the main thread, so the executor stops as it does for Ctrl-C) and call
    `interrupt` (the adapter's) every 0.2 s, so the statements running on any thread stop too."""
    target = threading.get_ident()
    done = threading.Event()
    lock = threading.Lock()
    raised = False

    def watch() -> None:
        nonlocal raised
        while not done.is_set() and not cancel.wait(0.2):
            pass
        with lock:
            if done.is_set():
                return
            raised = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(target), ctypes.py_object(KeyboardInterrupt)
            )
        while not done.is_set():
            interrupt()
            done.wait(0.2)

    watcher = threading.Thread(target=watch, name="sqlflow-cancel", daemon=True)
    watcher.start()

    def stop() -> None:
        with lock:
            done.set()
            if raised:  # not delivered yet (the run ended first): it must not hit the caller later
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
        if raised:  # the watcher may be inside the engine's interrupt: let it leave
            watcher.join(timeout=5)

    return stop
