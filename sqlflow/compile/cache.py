"""The compile cache: `<cache_dir>/compile_cache.pickle`, what rendering and compiling each file gave last
time, under content hashes, so an unchanged project compiles without Jinja or sqlglot.

Per file two results are kept: the render (pass 1) under `key1` (sqlflow version, file text, vars, target,
macro texts, the config from folders and properties) and the compiled SQL under `key2` (key1 plus the
merged config, a hash of every relation of the project and the target dialect). Generic tests are kept by
unique id. A missing, old or unreadable cache is ignored; only this compile's entries are written back.
Imports nothing from sqlflow but `sqlflow.__version__`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import sqlflow

CACHE_FILE = "compile_cache.pickle"
_FORMAT = 5  # raise when the shape of a cached value changes


def digest(*parts: object) -> str:
    """A short content hash of the reprs of `parts`."""
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


class CompileCache:
    """Read once at the start of a compile, written once at the end; a no-op without a cache_dir."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._path = cache_dir / CACHE_FILE if cache_dir is not None else None
        self._old: dict[tuple[str, str], Any] = {}  # (kind, name) -> (key, value)
        self._new: dict[tuple[str, str], Any] = {}
        self._changed = False
        if self._path is not None and self._path.is_file():
            try:
                with open(self._path, "rb") as handle:
                    doc = pickle.load(handle)
                if doc.get("format") == _FORMAT and doc.get("version") == sqlflow.__version__:
                    self._old = doc["entries"]
            except Exception:  # a cache is only ever a shortcut
                self._old = {}

    @property
    def enabled(self) -> bool:
        return self._path is not None

    def get(self, kind: str, name: str, key: str) -> Any:
        """The value stored for (kind, name) under `key`, or None; a hit is kept for the next compile."""
        entry = self._old.get((kind, name))
        if entry is None or entry[0] != key:
            return None
        self._new[(kind, name)] = entry
        return entry[1]

    def put(self, kind: str, name: str, key: str, value: Any) -> None:
        if self._path is None:
            return
        self._new[(kind, name)] = (key, value)
        self._changed = True

    def save(self) -> None:
        if self._path is None or (not self._changed and self._new.keys() == self._old.keys()):
            return
        doc = {"format": _FORMAT, "version": sqlflow.__version__, "entries": self._new}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".compile_cache.")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(doc, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
