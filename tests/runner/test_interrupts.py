"""on_sigint: the callback runs on SIGINT, the previous wakeup fd comes back, other threads are left alone."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from sqlflow.runner.interrupts import SignalsAsInterrupt, Terminated, on_sigint


def test_callback_runs_and_keyboard_interrupt_still_raises() -> None:
    called = threading.Event()
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    with pytest.raises(KeyboardInterrupt), on_sigint(called.set):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # KeyboardInterrupt arrives here
    assert called.wait(5)
    assert signal.set_wakeup_fd(before) == before  # restored


def test_off_the_main_thread_it_does_nothing() -> None:
    errors: list[BaseException] = []

    def use() -> None:
        try:
            with on_sigint(lambda: None):
                pass
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert errors == []


def test_sigterm_inside_the_block_raises_terminated_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    signals = SignalsAsInterrupt()
    with pytest.raises(Terminated), signals:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # Terminated arrives here
    assert signals.received == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_keyboard_interrupt_leaving_the_block_is_remembered_as_sigint() -> None:
    signals = SignalsAsInterrupt()
    with pytest.raises(KeyboardInterrupt), signals:
        raise KeyboardInterrupt
    assert signals.received == "SIGINT"
