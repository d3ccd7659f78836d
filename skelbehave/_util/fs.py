"""Files: the one atomic write and its temporary-file clean-up, file hashing, input expansion.

Every file the package writes goes through :func:`atomic_path` / :func:`atomic_write`
(one temporary-file naming scheme, so :func:`remove_stale_temps` clears what a killed
process left), and every file hash through :func:`file_sha256`.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> with atomic_write(p) as fh:
...     _ = fh.write("done")
>>> p.read_text()
'done'
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import hashlib
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ..errors import ParameterError, PoseDataError, PoseFileNotFoundError

__all__ = [
    "LOCK_NAME",
    "NOT_INPUTS",
    "POSE_SUFFIXES",
    "atomic_path",
    "atomic_write",
    "check_regular",
    "expand_inputs",
    "file_sha256",
    "file_stamp",
    "open_regular",
    "settled_stamp",
    "folder_lock",
    "output_names",
    "regular_file_problem",
    "remove_stale_temps",
    "temp_path",
]

log = logging.getLogger(__name__)

#: Name of the lock file :func:`folder_lock` keeps in an output folder.
LOCK_NAME = ".skelbehave.lock"

#: Suffixes of the pose files a folder is searched for.
POSE_SUFFIXES = (".csv", ".skeleton")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary name is ``.<stem>.<random>.tmp<suffix>`` (see
    :func:`temp_path`): it keeps the suffix of ``path`` (writers that choose
    the format from the extension, such as ``cv2.VideoWriter``, still work),
    and :func:`remove_stale_temps` finds it after a killed run. If the block
    raises, the temporary file is removed and ``path`` is left untouched.
    The file is created with the user's umask (not ``mkstemp``'s 0600).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    """
    path = Path(path)
    tmp_path = temp_path(path)
    try:
        yield tmp_path
        # the umask decides the permissions, as for open(path, "w") (a writer that replaced the
        # temporary file may have created it 0600, as tempfile.mkstemp does)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def temp_path(path: str | os.PathLike) -> Path:
    """Create an empty temporary file next to ``path``, named so :func:`remove_stale_temps` finds it.

    The caller renames it onto ``path`` (or elsewhere) or deletes it;
    :func:`atomic_path` does both for you. The parent folder is created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t = temp_path(d / "model.skb")
    >>> t.name.startswith(".model.") and t.name.endswith(".tmp.skb"), t.stat().st_size
    (True, 0)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _temp_affixes(path)
    for _ in range(100):
        tmp = path.parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            # mode 0o666 and the process umask decide the permissions, as for open(path, "w")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"cannot create a temporary file next to {path}")  # pragma: no cover


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_affixes(path: Path) -> tuple[str, str]:
    """Prefix and suffix of :func:`atomic_path`'s temporary files for ``path``."""
    return f".{path.stem}.", f".tmp{path.suffix}"


def remove_stale_temps(path: str | os.PathLike) -> int:
    """Delete temporary files of :func:`atomic_path` for ``path`` left by a killed process.

    Returns how many were removed. Call it only when no other process is writing ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".out.0a1b2c3d.tmp.csv").write_text("half")
    >>> remove_stale_temps(d / "out.csv"), sorted(p.name for p in d.iterdir())
    (1, [])
    """
    path = Path(path)
    prefix, suffix = _temp_affixes(path)
    n = 0
    # exactly 8 random characters between the affixes (hex here, [a-z0-9_] from tempfile in
    # earlier versions): never the temporary file of another output such as "<stem>.other.csv"
    for stale in path.parent.glob(f"{glob.escape(prefix)}{'[a-z0-9_]' * 8}{glob.escape(suffix)}"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            n += 1
    return n


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file next to ``path``; rename it onto ``path`` on success.

    Readers never see a half-written file: either the old content or the
    new one. ``mode`` is ``"w"`` (text, UTF-8 unless ``encoding=`` is given)
    or ``"wb"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> with atomic_write(p) as f:
    ...     _ = f.write("x,y\\n1,2\\n")
    >>> p.read_text().splitlines()
    ['x,y', '1,2']
    """
    if mode not in ("w", "wb", "wt"):
        raise ParameterError(f"atomic_write mode must be 'w', 'wt' or 'wb', got {mode!r}")
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
        open_kwargs.setdefault("newline", "")
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (flat memory).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(p, "w").write("abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open_regular(path) as fh:  # a FIFO or device is refused at once instead of blocking
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike) -> Path:
    """A path that names an existing regular file, checked without opening it.

    ``os.stat`` never blocks, so a FIFO is refused before anything opens it.

    Raises
    ------
    PoseFileNotFoundError
        The path does not exist.
    PoseDataError
        The path is a directory, FIFO, device or socket.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> try:
    ...     check_regular(d)
    ... except PoseDataError as e:
    ...     print(str(e).split(": ", 1)[1])
    expected a regular file, found a directory
    """
    p = Path(os.fspath(path))
    problem = regular_file_problem(p)
    if problem == "no such file":
        raise PoseFileNotFoundError(problem, path=p)
    if problem is not None:
        raise PoseDataError(problem, path=p)
    return p


def open_regular(path: str | os.PathLike) -> IO[bytes]:
    """Open a regular file for binary reading; never blocks on a FIFO or device.

    The file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the
    open descriptor, so a path swapped for a FIFO after any earlier check is
    still refused at once.

    Raises
    ------
    PoseFileNotFoundError
        The path does not exist.
    PoseDataError
        The path cannot be opened, or is a directory, FIFO, device or socket.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(f, "w").write("abc")
    >>> with open_regular(f) as fh:
    ...     fh.read()
    b'abc'
    """
    p = check_regular(path)  # stat first: a device is never opened
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:  # removed or replaced since the check
        raise PoseDataError(f"cannot open: {exc.strerror or exc}", path=p) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise PoseDataError(f"expected a regular file, found {_kind(mode)}", path=p)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def regular_file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as an input file (``None``: it is a regular file).

    Checked with ``os.stat``, which never blocks, so a FIFO (whatever its
    name, e.g. ``video.mp4``), a device or a directory is refused before
    anything opens it.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> regular_file_problem(d)
    'expected a regular file, found a directory'
    >>> fifo = os.path.join(d, "cam.mp4"); os.mkfifo(fifo)
    >>> regular_file_problem(fifo)
    'expected a regular file, found a FIFO (named pipe)'
    >>> regular_file_problem(os.path.join(d, "none.csv"))
    'no such file'
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        return f"expected a regular file, found {_kind(st.st_mode)}"
    return None


def file_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """``(size, modification time in ns)`` of a file: compared before and after reading it.

    A file whose stamp differs after it was read changed while it was read
    (e.g. a tracker still writing it); its result is not trusted.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "w").write("abc")
    >>> file_stamp(p)[0]
    3
    """
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


#: seconds a file must have gone unmodified before what was read from it is trusted
SETTLE_SECONDS = 1.0


def settled_stamp(path: str | os.PathLike, settle: float = SETTLE_SECONDS) -> tuple[int, int]:
    """:func:`file_stamp` once the file has gone ``settle`` seconds without a change.

    A file modified less than ``settle`` seconds ago may still be growing
    between two writes of its writer (a tracker appending every few hundred
    milliseconds): wait until ``settle`` seconds have passed since its
    modification time, then stamp it. Compared with the stamp taken before
    reading, a writer that wrote at any time during the read or the wait is
    caught; one that pauses longer than ``settle`` is not. Waits at most
    ``settle`` seconds, and not at all for files older than that.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "w").write("abc")
    >>> settled_stamp(p, settle=0.05) == file_stamp(p)
    True
    """
    st = os.stat(path)
    age = time.time() - st.st_mtime
    if 0.0 <= age < settle:
        time.sleep(settle - age)
        st = os.stat(path)
    return st.st_size, st.st_mtime_ns


# folders this process holds locked: {resolved folder: [open lock file, depth]}
_HELD: dict[str, list] = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, wait: bool = True) -> Iterator[Path]:
    """Hold the output folder ``folder`` for this process while the block runs.

    Two runs writing one folder at once (two ``skelbehave score`` commands
    with the same ``--out``) would overwrite each other's manifest rows. The
    lock is an ``fcntl.flock`` on ``<folder>/.skelbehave.lock``, which holds
    the owner's process id: a second run waits (and says which process it
    waits for) until the first ends. The operating system releases the lock
    when its process dies, so a lock left by a killed run (its file and a
    dead pid stay behind) is taken over at once. Re-entrant within one
    process. Where ``fcntl`` is missing (Windows) nothing is locked.

    Parameters
    ----------
    folder : path
        The output folder (created).
    wait : bool
        Wait for another process's lock (default). ``False`` raises
        :class:`~skelbehave.errors.OutputFolderBusyError` instead.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with folder_lock(d) as lock:
    ...     lock.read_text().split()[0] == str(os.getpid())
    True
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / LOCK_NAME
    key = str(folder.resolve())
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
    if held is not None:
        try:
            yield lock_path
        finally:
            with _HELD_GUARD:
                held[1] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield lock_path
        return
    fh = open(lock_path, "a+", encoding="utf-8")  # held for the whole block
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            owner = fh.read().split()[:1] or ["another process"]
            if not wait:
                from ..errors import OutputFolderBusyError

                raise OutputFolderBusyError(
                    f"{folder} is being written by process {owner[0]} (lock file {lock_path}); "
                    "wait until it ends or choose another output folder"
                ) from None
            log.warning("%s is being written by process %s; waiting until it ends", folder, owner[0])
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        with _HELD_GUARD:
            _HELD[key] = [fh, 1]
        try:
            yield lock_path
        finally:
            with _HELD_GUARD:
                _HELD.pop(key, None)
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


#: Files a folder never contributes as inputs: the package's own outputs and temporary files.
NOT_INPUTS = (
    "manifest.csv",
    "*.image.pose.csv",
    "*.predictions.csv",
    "*.predictions.parquet",
    "*.bouts.csv",
    ".*",
)


def expand_inputs(
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    suffixes: Iterable[str] = POSE_SUFFIXES,
    accept: Callable[[Path], bool] | None = None,
    accept_folder: Callable[[Path], bool] | None = None,
) -> list[Path]:
    """Input files from paths, folders (the files directly inside) and glob patterns.

    A file named explicitly is taken as given (a bad one is the batch's to
    report). A folder or pattern contributes its files whose suffix is in
    ``suffixes`` (default pose files: ``*.csv`` / ``*.skeleton``), never the
    package's own outputs (:data:`NOT_INPUTS`: manifests, image-landmark pose
    files, predictions and bout tables, hidden and temporary files), and,
    when ``accept`` is given, only those for which ``accept(path)`` is true
    (e.g. a format detector). A folder that contributes nothing but for which
    ``accept_folder(folder)`` is true is an input itself (an image sequence).
    Order is kept (folders and patterns sorted), duplicates dropped. A path
    that matches nothing raises :class:`~skelbehave.errors.PoseDataError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("b.csv", "a.csv", "notes.txt", "manifest.csv", "a.image.pose.csv"):
    ...     _ = (d / n).write_text("x")
    >>> [p.name for p in expand_inputs([d])]
    ['a.csv', 'b.csv']
    >>> [p.name for p in expand_inputs([d], suffixes=(".csv", ".txt"), accept=lambda p: p.stem != "b")]
    ['a.csv', 'notes.txt']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    wanted = tuple(x.lower() for x in suffixes)

    def keep(q: Path) -> bool:
        if not q.is_file() or q.suffix.lower() not in wanted:
            return False
        if any(fnmatch.fnmatch(q.name.lower(), pat) for pat in NOT_INPUTS):
            return False
        return accept is None or accept(q)

    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        s = os.fspath(item)
        p = Path(s)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if keep(q))
            if not found and accept_folder is not None and accept_folder(p):
                found = [p]
        elif p.exists():
            found = [p]
        elif glob.has_magic(s):
            found = sorted(Path(q) for q in glob.glob(s) if keep(Path(q)))
        else:
            found = []
        if not found:
            raise PoseDataError("no pose file found here (not a file, folder or matching pattern)", path=s)
        for q in found:
            key = q.resolve()
            if key not in seen:
                seen.add(key)
                out.append(q)
    return out


def output_names(paths: Iterable[str | os.PathLike], *, taken: Mapping[str, str] | None = None) -> list[str]:
    """Output names for input files that never collide, in this run or with earlier ones.

    The name is the file's stem, or ``<stem>-<8 hex digits of its full path>``
    when another input has the same stem (``a/x.csv`` and ``b/x.csv``, or
    ``x.h5`` and ``x.slp`` in one folder): another file of this call, or one
    in ``taken`` (``{name: input key}`` from the manifest of earlier runs into
    the same folder; an input keeps the name it had there).

    Examples
    --------
    >>> output_names(["a/x.csv", "b/y.csv"])
    ['x', 'y']
    >>> [n[:2] for n in output_names(["a/x.csv", "b/x.csv"])]
    ['x-', 'x-']
    >>> output_names(["b/x.csv"], taken={"x": "a/x.csv"})[0].startswith("x-")
    True
    >>> len(set(output_names(["r1.h5", "r1.slp", "r1.json"])))
    3
    """
    paths = [Path(p) for p in paths]
    taken = dict(taken or {})
    keys = [str(p) for p in paths]
    stems = [p.stem for p in paths]
    counts: dict[str, int] = {}
    for s in stems:
        counts[s] = counts.get(s, 0) + 1
    mine = {v: k for k, v in taken.items()}  # input key -> its earlier name
    out = []
    for p, key, stem in zip(paths, keys, stems, strict=True):
        if key in mine:
            out.append(mine[key])
        elif counts[stem] > 1 or taken.get(stem, key) != key:
            tag = hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:8]
            out.append(f"{stem}-{tag}")
        else:
            out.append(stem)
    return out
