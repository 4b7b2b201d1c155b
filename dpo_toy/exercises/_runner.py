r"""Calling a learner's function safely: a time limit, captured (capped) output, every exception caught.

The function runs in the caller's thread, so the kernel's own interrupt (KeyboardInterrupt),
PyTorch's thread-local grad mode and NumPy's error state behave as usual. The time limit is
enforced from outside the function:

- in the main thread (a Jupyter kernel), by ``SIGALRM`` (``signal.setitimer``): its handler
  raises :class:`TimeLimitExceeded` between two bytecodes, and also interrupts ``time.sleep``
  and other blocking system calls; the alarm repeats every 50 ms until the function has stopped;
- in any other thread, by a watchdog thread that injects the same exception with
  ``PyThreadState_SetAsyncExc`` every 50 ms until the function stops (delivered between
  bytecodes, not inside a long C call).

Either way no thread is left running the learner's code: once the check has answered, nothing
of it keeps burning CPU. :class:`TimeLimitExceeded` derives from BaseException, so a loop with
``except Exception`` in it is still stopped. Not covered: a loop that catches *every* exception
(a bare ``except:`` or ``except BaseException`` around the code the alarm lands in) swallows each
alarm, as it would swallow the kernel's own interrupt; and a single C-level call that never
returns (a huge matrix product) cannot be interrupted; the check answers when it returns.
"""

import contextlib
import ctypes
import io
import signal
import threading
import time

DEFAULT_TIME_LIMIT = 10.0
"""Seconds one check may spend in the learner's function, over all its inputs."""

OUTPUT_LIMIT = 1200
"""Characters of the learner's printed output shown with the verdict; the rest is counted."""

OUTPUT_LINES = 15
"""Lines of the learner's printed output shown with the verdict."""


class TimeLimitExceeded(BaseException):
    """Raised inside the learner's function when the check's time is up (a BaseException, so that
    ``except Exception`` in the learner's code does not catch it)."""


class CappedOutput(io.TextIOBase):
    """A text stream keeping the first ``limit`` characters written to it and counting the rest."""

    def __init__(self, limit=OUTPUT_LIMIT):
        self.limit, self.kept, self.dropped = limit, [], 0
        self._size = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = max(0, self.limit - self._size)
        self.kept.append(text[:room])
        self._size += min(room, len(text))
        self.dropped += max(0, len(text) - room)
        return len(text)

    def text(self, lines=OUTPUT_LINES):
        """The kept output (at most ``lines`` lines), with a note of how much was left out."""
        kept = "".join(self.kept).splitlines()
        dropped = self.dropped + sum(len(line) + 1 for line in kept[lines:])
        out = "\n".join(kept[:lines])
        if dropped:
            out += f"\n… ({dropped} more characters of output not shown)"
        return out + "\n" if out else ""


def _alarm_limit(fn, args, seconds):
    state = {"armed": True}

    def on_alarm(signum, frame):
        if state["armed"]:
            raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)  # then again every 50 ms until it stops
    try:
        return fn(*args)
    finally:
        state["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _inject(thread_id, exc_type):
    """Raise ``exc_type`` in thread ``thread_id`` at its next bytecode; None withdraws a pending one."""
    exc = None if exc_type is None else ctypes.py_object(exc_type)  # None is passed as NULL
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)


def _watchdog_limit(fn, args, seconds):
    target = threading.get_ident()
    done = threading.Event()
    lock = threading.Lock()
    state = {"armed": True}

    def watch():
        if done.wait(seconds):
            return
        while not done.wait(0.05):  # repeat until the function has stopped
            with lock:
                if state["armed"]:
                    _inject(target, TimeLimitExceeded)

    watcher = threading.Thread(target=watch, name="dpo_toy-check-watchdog", daemon=True)
    watcher.start()
    try:
        return fn(*args)
    finally:
        with lock:
            state["armed"] = False
            _inject(target, None)  # withdraw an exception injected but not yet delivered
        done.set()
        watcher.join()


def call_with_time_limit(fn, args, seconds):
    """``fn(*args)``, raising :class:`TimeLimitExceeded` after ``seconds`` (None: no limit)."""
    if seconds is None:
        return fn(*args)
    seconds = max(float(seconds), 1e-3)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        return _alarm_limit(fn, args, seconds)
    return _watchdog_limit(fn, args, seconds)


class Budget:
    """The time left for one check, shared by all its calls of the learner's function."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.start = time.monotonic()

    def left(self):
        if self.seconds is None:
            return None
        return self.seconds - (time.monotonic() - self.start)


@contextlib.contextmanager
def captured_output(limit=OUTPUT_LIMIT):
    """Capture stdout and stderr into one :class:`CappedOutput`."""
    sink = CappedOutput(limit)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink
