"""MediaPipe's, LiteRT/TFLite's, absl's and FFmpeg's own log lines, silenced unless asked for.

MediaPipe 0.10 / 1.x writes its log lines from C++ straight to file
descriptor 2 ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
dozens of "WARNING: [model_load.cc:402] Sparsity tensors ...", absl's
"W0000 00:00:... landmark_projection_calculator.cc:81] ..."), whatever
Python's logging says. The environment variables meant for this
(``GLOG_minloglevel``, ``TF_CPP_MIN_LOG_LEVEL``) are set before MediaPipe is
imported, but the wheels measured (mediapipe 1.2.3) ignore them, so
:func:`native_logs_silenced` also points file descriptor 2 at a pipe while a
landmarker is built, runs and closes: a thread passes every line on to the
real stderr except the lines in the native log formats (:data:`NATIVE_LINE`),
so Python's own output (warnings, logging, progress bars) still shows.

Native lines show when the ``skelbehave`` logger is at INFO or below (the
CLI's ``-v``) or when ``SKELBEHAVE_NATIVE_LOGS=1``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator

__all__ = ["NATIVE_LINE", "native_logs_silenced", "prepare_environment", "wants_native_logs"]

#: A log line written by MediaPipe's C++ code, LiteRT/TFLite or absl (never one of Python's).
NATIVE_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.+-]+:\d+\]"  # absl / glog
    rb"|(?:INFO|WARNING|ERROR|VERBOSE|DEBUG): (?:\[[\w./+-]+:\d+\]"  # LiteRT
    rb"|Created TensorFlow Lite|Initialized TensorFlow Lite|Replacing \d+ out of|Logging before InitGoogle)"
    rb"|WARNING: All log messages before absl::InitializeLog"
    rb"|\[[\w,]+ @ 0x[0-9a-f]+\] "  # FFmpeg (through OpenCV): "[mov,mp4,... @ 0x55..] moov atom not found"
    rb"|\[ ?(?:WARN|ERROR|INFO|DEBUG):\d+@[\d.]+\] )"  # OpenCV's own: "[ WARN:0@0.01] global ..."
)
#: Set to 1 to let the native log lines through.
SHOW_ENV = "SKELBEHAVE_NATIVE_LOGS"
_QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}

_lock = threading.Lock()
_depth = 0
_active: _Relay | None = None
#: native lines dropped in this process so far
dropped_lines = 0


def wants_native_logs() -> bool:
    """Whether native log lines should show: ``-v`` (INFO on ``skelbehave``) or ``SKELBEHAVE_NATIVE_LOGS``.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("SKELBEHAVE_NATIVE_LOGS", None) is None and not wants_native_logs()
    True
    """
    if os.environ.get(SHOW_ENV, "").strip() not in ("", "0"):
        return True
    return logging.getLogger("skelbehave").isEnabledFor(logging.INFO)


def prepare_environment() -> None:
    """Set the log-level variables MediaPipe/TFLite may read, before MediaPipe is imported.

    Values already set are kept; nothing is set when native logs are wanted.

    Examples
    --------
    >>> prepare_environment()
    """
    if wants_native_logs():
        return
    for k, v in _QUIET_ENV.items():
        os.environ.setdefault(k, v)
    absl = sys.modules.get("absl.logging")
    if absl is not None:
        with contextlib.suppress(Exception):
            absl.set_verbosity(absl.ERROR)


class _Relay:
    """File descriptor 2 -> a pipe; a thread copies all but native log lines to the real stderr."""

    def __init__(self) -> None:
        self.saved = os.dup(2)
        r, w = os.pipe()
        _flush_python_stderr()
        os.dup2(w, 2)
        os.close(w)
        self.thread = threading.Thread(target=self._copy, args=(r, self.saved), daemon=True)
        self.thread.start()

    @staticmethod
    def _copy(r: int, out: int) -> None:
        global dropped_lines
        buf = b""
        try:
            while chunk := os.read(r, 65536):
                buf += chunk
                # whole lines (ended by \n or a progress bar's \r) go at once; a partial one waits
                parts = re.split(rb"(?<=[\r\n])", buf)
                buf = parts.pop()
                for line in parts:
                    if NATIVE_LINE.match(line):
                        dropped_lines += 1
                    else:
                        _write_all(out, line)
            if buf and not NATIVE_LINE.match(buf):
                _write_all(out, buf)
        finally:
            os.close(r)
            os.close(out)

    def close(self) -> None:
        _flush_python_stderr()
        os.dup2(self.saved, 2)  # the pipe's last writer (ours) is gone: the thread sees its end
        # a child started meanwhile may still hold the pipe: the daemon thread then copies its lines
        self.thread.join(timeout=5)


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


def _flush_python_stderr() -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()


@contextlib.contextmanager
def native_logs_silenced(enabled: bool | None = None) -> Iterator[None]:
    """Drop MediaPipe's / TFLite's / absl's log lines written while the block runs.

    Re-entrant (only the outermost block redirects) and thread-safe. Python's
    own writes to stderr during the block still show.

    Parameters
    ----------
    enabled : bool, optional
        Default: silence unless :func:`wants_native_logs`.

    Examples
    --------
    >>> import os
    >>> with native_logs_silenced(True):
    ...     _ = os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    """
    global _depth, _active
    if enabled is None:
        enabled = not wants_native_logs()
    if not enabled:
        yield
        return
    with _lock:
        if _depth == 0:
            try:
                _active = _Relay()
            except OSError:  # no usable file descriptor 2 (a daemon): nothing to silence
                _active = None
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _active is not None:
                _active.close()
                _active = None
