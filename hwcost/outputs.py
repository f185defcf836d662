"""Writing results without losing anything the user wrote.

Every file hwcost writes into an output folder (a report, ``hwcost run``'s executed notebook)
is written atomically (a temporary file in the same folder, then a rename) and recorded with
its SHA-256 digest in the folder's manifest, ``.hwcost-manifest.json``. Before a file is
replaced, the manifest is consulted: a file hwcost did not write, or one changed since hwcost
wrote it, is kept under a new name (``index.html`` -> ``index.html.bak``, then
``index.html.bak1`` ...) and the move is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from .errors import HwcostError

MANIFEST = ".hwcost-manifest.json"


class OutputError(HwcostError):
    """An output cannot be written where it was asked to go."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader sees either the old file or the complete new one, never a partial write; the
    new file gets the permissions the user's umask gives any new file.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a directory; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(directory: Path) -> dict[str, str]:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def written_by_hwcost(path) -> bool:
    """Whether ``path`` is, byte for byte, a file hwcost wrote (per its folder's manifest)."""
    path = Path(path)
    recorded = _read_manifest(path.parent).get(path.name)
    return recorded is not None and path.is_file() and _digest(path) == recorded


def make_room(path) -> Path | None:
    """Before hwcost writes ``path``: keep a file there that hwcost did not write.

    Returns
    -------
    Path or None
        Where the user's file now is, or None when there was nothing to keep.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a directory; hwcost would write a file there")
    if not path.exists() or written_by_hwcost(path):
        return None
    for i in range(1000):
        backup = path.with_name(f"{path.name}.bak{i or ''}")
        if not backup.exists():
            os.replace(path, backup)
            return backup
    raise OutputError(f"{path}: too many backups beside it; move them away first")


@contextlib.contextmanager
def _manifest_lock(directory: Path):
    """Hold the folder's manifest lock (notebooks of one report are written in parallel)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no POSIX locks: one writer at a time is assumed
        yield
        return
    fd = os.open(directory, os.O_RDONLY)  # the folder itself: no lock file left behind
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def record(path) -> None:
    """Note ``path`` (just written by hwcost) in its folder's manifest."""
    path = Path(path)
    with _manifest_lock(path.parent):
        files = _read_manifest(path.parent)
        files[path.name] = _digest(path)
        text = json.dumps({"written_by": "hwcost", "files": dict(sorted(files.items()))}, indent=1)
        atomic_write(path.parent / MANIFEST, text + "\n")


def write(path, data: str | bytes, *, log=None) -> Path:
    """Write an output: keep any file of the user's there, write atomically, record it."""
    path = Path(path)
    kept = make_room(path)
    if kept is not None and log is not None:
        log(f"  {path} was not written by hwcost; kept it as {kept.name}")
    atomic_write(path, data)
    record(path)
    return path


def check_not_input(output, inputs) -> None:
    """Refuse an output path that is one of the input files."""
    out = Path(output).resolve()
    for source in inputs:
        if Path(source).resolve() == out:
            raise OutputError(
                f"{output} is the input notebook itself; hwcost never overwrites an input: "
                "choose another --output-dir")
