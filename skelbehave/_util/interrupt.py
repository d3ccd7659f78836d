"""Ctrl-C that reaches Python wrapped in another exception.

A SIGINT that arrives while a numba-compiled function runs comes back as
``SystemError: CPUDispatcher(...) returned a result with an exception set``,
with the :class:`KeyboardInterrupt` as its cause. Code that keeps going past
errors (a batch past a bad file, the CLI's one-line report) must still stop.
"""

from __future__ import annotations


def interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The :class:`KeyboardInterrupt` that *exc* wraps (cause or context), if any.

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt as ki:
    ...         raise SystemError("returned a result with an exception set") from ki
    ... except SystemError as err:
    ...     type(interrupt_behind(err)).__name__
    'KeyboardInterrupt'
    >>> interrupt_behind(ValueError("bad cell")) is None
    True
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None
