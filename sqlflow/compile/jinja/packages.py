"""The macros of installed packages as templates see them: `PackageMacros`, one package's namespace (a
file compiled on first use), and `PackageScope`, the globals of a package's macros (the root project's
macros first, then the package's own, then the environment's).

`templating.Renderer` makes them and compiles the files; pure Python here: no jinja2, no sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

from sqlflow.errors import SourceLocation, TemplateError
from sqlflow.project.types import SourceFile

_MACRO_NAME = re.compile(r"{%[-+]?\s*macro\s+(\w+)")
_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)


class PackageMacros(Mapping[str, Any]):
    """One installed package's macros by name. The files are only scanned for `{% macro name` at first;
    a file is compiled when one of its macros is first used (dbt_utils has ~50 files, a project calls a
    few). A name written in two files of the package is an error naming both."""

    def __init__(
        self,
        files: Iterable[SourceFile],
        texts: Mapping[str, str],
        load: Callable[[SourceFile, PackageMacros], dict[str, Any]],
    ) -> None:
        self._files: dict[str, SourceFile] = {}  # macro name -> its file
        for file in files:
            for name in _MACRO_NAME.findall(_COMMENT.sub("", texts[file.path])):
                first = self._files.setdefault(name, file)
                if first is not file:
                    raise TemplateError(
                        f"macro '{name}' is defined twice",
                        location=SourceLocation(file.path),
                        hint=f"also defined in {first.path}",
                    )
        self._load = load
        self._loaded: dict[str, Any] = {}
        self._files_loaded: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            file = self._files[name]  # KeyError: the package has no such macro
            if file.path not in self._files_loaded:
                self._files_loaded.add(file.path)
                self._loaded.update(self._load(file, self))
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def loaded(self) -> Mapping[str, Any]:
        """The macros compiled so far."""
        return self._loaded


class PackageScope(Mapping[str, Any]):
    """The globals of a package's macros, called from the project's nodes: a root project macro of the
    name, else dbt's own macro (as in dbt, where the node's namespace is the root project's and dbt's),
    else the package's own macro (dbt leaves it undefined: sqlflow finds it), else the environment's
    globals (read live: `this`, `model` ... change per render). Iterating it (Jinja does, to show a
    traceback's locals) gives the package's macros compiled so far only: it never compiles a file."""

    def __init__(
        self,
        own: PackageMacros,
        root_macros: Mapping[str, str],
        env: Mapping[str, Any],
        dbt_macros: Collection[str] = (),
    ):
        self._own, self._root, self._env, self._dbt = own, root_macros, env, dbt_macros

    def __getitem__(self, key: str) -> Any:
        if key not in self._root and key not in self._dbt:
            found = self._own.get(key)
            if found is not None:
                return found
        return self._env[key]

    def __contains__(self, key: object) -> bool:
        # a name the scan found but the file does not define (in a `{% raw %}` block) is not there
        return key in self._env or (isinstance(key, str) and self._own.get(key) is not None)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._env, **self._own.loaded()})

    def __len__(self) -> int:
        return len({**self._env, **self._own.loaded()})
