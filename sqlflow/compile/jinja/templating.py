"""Jinja for models, tests and macros: one Environment per compile, the dbt context, errors at file:line.

`Renderer.render()` turns one file's text into SQL and records what the template called (ref, source,
config, env_var) with the file:line of each call, so the compiler can resolve and validate them. Relations
come from a `resolve` callback; without one (pass 1) ref()/source()/this give placeholders and the result
says the text is not final. The only module of sqlflow.compile that imports jinja2; no sqlglot here.
"""

from __future__ import annotations

import datetime as _datetime
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import jinja2
import jinja2.runtime

from sqlflow.compile.jinja import dbt_context as dbt
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.jinja.context_values import (
    BatchBound,
    Call,
    ConfigCall,
    RelationRef,
    RenderResult,
    RenderState,
    Resolve,
)
from sqlflow.compile.jinja.crossdb import (
    builtin_macros,
    generate_alias_name,
    generate_database_name,
    generate_schema_name,
    generate_schema_name_for_env,
)
from sqlflow.compile.jinja.dbt_adapter import (
    KNOWN_PACKAGES,
    Adapter,
    Api,
    DbtNamespace,
    Exceptions,
    Package,
    dispatching,
)
from sqlflow.compile.jinja.packages import PackageMacros, PackageScope
from sqlflow.compile.jinja.quick_jinja import NotQuick, QuickTemplate
from sqlflow.errors import SourceLocation, SqlflowError, TemplateError, did_you_mean
from sqlflow.manifest import Relation
from sqlflow.project.types import InstalledPackage, SourceFile, Target

_MISSING: Any = object()
_PLACEHOLDER = '"__sqlflow_pending__"."__sqlflow_pending__"'
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
# dbt's `{% test name(model, column_name) %}` blocks are macros named test_<name>
_TEST_BLOCK = re.compile(r"{%(-?)\s*test\s+(\w+)\s*\(")
_END_TEST_BLOCK = re.compile(r"{%(-?)\s*endtest\s*(-?)%}")


class _Loader(jinja2.BaseLoader):
    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template not in self.texts:
            raise jinja2.TemplateNotFound(template)
        return self.texts[template], template, lambda: True


class _Macro(jinja2.runtime.Macro):
    """A macro that may end with `{{ return(value) }}` and then returns `value` (any object), as in dbt."""

    def _invoke(self, arguments: list[Any], autoescape: bool) -> Any:
        try:
            return super()._invoke(arguments, autoescape)
        except dbt.MacroReturn as returned:
            return returned.value


class _Environment(jinja2.Environment):
    """Jinja with dbt's extensions (`do`, `break`/`continue`) whose macros are `_Macro`s: the compiled code
    of every template binds `Macro` to `_Macro` (as dbt's own environment rewrites its compiled code)."""

    def _compile(self, source: str, filename: str) -> Any:
        return super()._compile(source + "\nMacro = environment.macro_class\n", filename)

    macro_class = _Macro


class Renderer:
    """One Jinja environment for a whole compile, with the project's macros loaded once."""

    def __init__(
        self,
        *,
        files: Iterable[SourceFile],
        macro_files: Iterable[SourceFile],
        target: Target,
        vars: Mapping[str, Any],
        invocation_id: str,
        run_started_at: _datetime.datetime,
        query: dbt.Query | None = None,
        flags: Mapping[str, Any] | None = None,
        graph: Callable[[], Mapping[str, Any] | None] | None = None,
        packages: Iterable[str] = (),
        project_name: str = "",
        installed_packages: Iterable[InstalledPackage] = (),
        dispatch: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`query(sql)` runs SQL on the target for run_query / statement (without it `execute` is false);
        `flags` are dbt's flags (FULL_REFRESH, WHICH ...); `graph()` gives the `graph` of manifest-shaped
        node dicts; `packages` are the names packages.yml lists; `installed_packages` those of dbt_packages/,
        each macro in its package's namespace; `dispatch` the project's search orders by macro_namespace.
        """
        self._macro_files = list(macro_files)
        self._installed = list(installed_packages)
        texts = {f.path: f.text for f in files}
        for file in [*self._macro_files, *(f for p in self._installed for f in p.macro_files)]:
            texts[file.path] = _test_blocks_to_macros(file.text)
        self._texts = texts
        self._vars = vars
        self._env: dict[str, str] = {}
        self._state = RenderState()
        self._quick_templates: dict[str, QuickTemplate | None] = {}
        self.warnings: list[tuple[str, SourceLocation | None]] = []  # exceptions.warn(...), in order
        self.env = _Environment(
            loader=_Loader(texts),
            undefined=jinja2.StrictUndefined,
            cache_size=-1,
            autoescape=False,
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        )
        target_doc = {k: v for k, v in target.settings.items() if k not in ("password", "pass")}
        target_doc |= {
            "name": target.name,
            "target_name": target.name,
            "type": target.type,
            "schema": target.schema,
            "database": target.database,
            "threads": target.threads or 1,
            "profile_name": target.profile_name,
        }
        state = self._state
        where = state.where
        self.queries = dbt.Queries(query, state.queried, where)
        builtins = builtin_macros(target.type)
        builtins |= {
            "default__generate_schema_name": generate_schema_name(target_doc),
            "generate_schema_name_for_env": generate_schema_name_for_env(target_doc),
            "default__generate_alias_name": generate_alias_name,
            "default__generate_database_name": generate_database_name(target_doc),
        }
        self.builtins = builtins
        # each installed package's macros by name, a file compiled when one of its macros is first used
        self.package_macros = {
            p.name: PackageMacros(p.macro_files, texts, self._load_package_file) for p in self._installed
        }
        adapter = Adapter(
            target.type,
            self._project_macro,
            builtins,
            self.queries,
            where,
            project_name=project_name,
            packages=self.package_macros,
            search_orders=dispatch,
        )
        self._graph = graph
        # dbt's macros are globals too, dispatching (a project's default__x wins); its own x replaces them
        names = {n.removeprefix("default__") for n in builtins} - {"generate_schema_name_for_env"}
        self._dbt_macros = frozenset({*names, "generate_schema_name_for_env"})
        self.env.globals.update({n: dispatching(adapter, n) for n in names})
        self.env.globals["generate_schema_name_for_env"] = builtins["generate_schema_name_for_env"]
        self.env.globals.update(
            ref=self._ref,
            source=self._source,
            config=ConfigCall(state, lambda message, at: self.warnings.append((message, at))),
            var=self._var,
            env_var=self._env_var,
            is_incremental=lambda: state.incremental,
            start=BatchBound("start"),
            end=BatchBound("end"),
            this=None,
            model=dbt.Tracked({}, state.used),
            graph=dbt.LazyGraph(self._graph_doc, state.dynamic),
            target=target_doc,
            run_started_at=run_started_at,
            invocation_id=invocation_id,
            modules=SimpleNamespace(datetime=_datetime, re=re, itertools=itertools, json=json),
            log=lambda *args, **kwargs: "",
            print=lambda *args, **kwargs: "",
            exceptions=Exceptions(where, lambda message, at: self.warnings.append((message, at))),
            tojson=dbt.tojson,
            fromjson=dbt.fromjson,
            toyaml=dbt.toyaml,
            fromyaml=dbt.fromyaml,
            set=dbt.try_set,
            set_strict=dbt.set_strict,
            zip=dbt.try_zip,
            zip_strict=dbt.zip_strict,
            local_md5=dbt.local_md5,
            adapter=adapter,
            load_relation=adapter.load_relation,
            dbt=DbtNamespace(adapter),
            api=Api(),
            flags=dbt.Flags({**dbt.DEFAULT_FLAGS, **(flags or {})}, state.dynamic),
            execute=self.queries.execute_flag(),
            run_query=self.queries.run_query,
            statement=self.queries.statement,
            load_result=self.queries.load_result,
            store_result=self.queries.store_result,
            **{"return": dbt.macro_return},
        )
        for package in {*KNOWN_PACKAGES, *packages}:
            self.env.globals[package] = Package(package, self._project_macro, where)
        for name, macros in self.package_macros.items():
            self.env.globals[name] = Package(name, self._project_macro, where, macros)
        self.macros: dict[str, str] = {}  # name -> file
        self._load_macros()

    def _project_macro(self, name: str) -> Any:
        """The project's macro `name`, or None."""
        return self.env.globals[name] if name in self.macros else None

    def _graph_doc(self) -> Mapping[str, Any]:
        found = self._graph() if self._graph is not None else None
        return found if found is not None else dbt.EMPTY_GRAPH

    def call_macro(self, name: str, *args: Any, path: str = "", node: Mapping[str, Any] | None = None) -> Any:
        """Call the project's macro (or built-in) `name` with `args`: its return value, or its text stripped;
        errors name the macro's file:line (else `path`)."""
        macro: Any = self.env.globals[name]
        state = self._state
        saved = state.result, state.path, state.resolve
        state.result, state.path, state.resolve = RenderResult(""), path, None
        self.env.globals["model"] = dbt.Tracked(node or {}, state.used)
        try:
            value = self._guarded(path or self.macros.get(name, name), lambda: macro(*args))
        finally:
            state.result, state.path, state.resolve = saved
        return value.strip() if isinstance(value, str) else value

    # -- the context functions -------------------------------------------------------------------------

    def _call(self, kind: str, args: tuple[Any, ...]) -> RelationRef:
        state = self._state
        location = state.where()
        if not args or len(args) > 2 or not all(isinstance(a, str) for a in args):
            raise TemplateError(f"{kind}() takes one or two names as strings", location=location)
        if kind == "source" and len(args) != 2:
            raise TemplateError("source() takes a source name and a table name", location=location)
        call = Call(tuple(args), location)
        (state.result.refs if kind == "ref" else state.result.sources).append(call)
        if state.resolve is None:
            return RelationRef(None, _PLACEHOLDER, state.used)
        resolved = state.resolve(kind, call.args, location)
        plain = resolved[2] if len(resolved) > 2 else None
        return RelationRef(resolved[0], resolved[1], state.used, plain)

    def _ref(self, *args: Any, **kwargs: Any) -> RelationRef:
        return self._call("ref", args)

    def _source(self, *args: Any) -> RelationRef:
        return self._call("source", args)

    def _var(self, name: str, default: Any = _MISSING) -> Any:
        if name in self._vars:
            return self._vars[name]
        if default is not _MISSING:
            return default
        raise TemplateError(
            f"var '{name}' is not set",
            location=self._state.where(),
            hint="set it under vars: in sqlflow.yml, pass --vars, or give var() a default",
        )

    def _env_var(self, name: str, default: Any = _MISSING) -> Any:
        if name in self._env:
            return self._env[name]
        value = os.environ.get(name)
        self._state.result.env_reads[name] = value
        if value is not None:
            return value
        if default is not _MISSING:
            return default
        raise TemplateError(
            f"env var '{name}' is not set",
            location=self._state.where(),
            hint="export it, or give env_var() a default",
        )

    # -- rendering -----------------------------------------------------------------------------------

    def render(
        self,
        path: str,
        *,
        text: str | None = None,
        resolve: Resolve | None = None,
        this: Relation | None = None,
        this_text: str | None = None,
        incremental: bool = False,
        config: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        node: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        vars: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        execute: bool = True,
    ) -> RenderResult:
        """Render the file `path` (or `text` shown as `path`, e.g. a test's `to:` or `show --inline`).

        `extra` names are visible to this render only (a custom test's arguments); `node` is `model`, the
        node being rendered as a manifest-shaped dict. With `resolve` (pass 2) and a query function,
        `execute` is true. `vars` and `env` override var() and env_var() for this render (a unit test's).
        """
        state = self._state
        state.result = RenderResult("")
        state.path = path
        state.resolve = resolve
        state.incremental = incremental
        state.config = dict(config or {})
        state.line = None
        self.queries.executing = resolve is not None and execute
        self.env.globals["this"] = RelationRef(
            this, this_text or (str(this) if this else _PLACEHOLDER), state.used
        )
        self.env.globals["model"] = dbt.Tracked(node or {}, state.used)
        shadowed = {name: self.env.globals[name] for name in extra or () if name in self.env.globals}
        self.env.globals.update(extra or {})
        saved_vars, self._vars = self._vars, {**self._vars, **vars} if vars else self._vars
        self._env = dict(env or {})
        try:
            sql = self._quick(path, text)
            if sql is None:
                state.result = RenderResult("")
                state.config = dict(config or {})
                state.line = None
                if text is None:
                    sql = self._guarded(path, lambda: self._run(self.env.get_template(path)))
                else:
                    sql = self._guarded(path, lambda: self._run(self._from_text(text, path)))
        finally:
            for name in extra or ():
                del self.env.globals[name]
            self.env.globals.update(shadowed)
            self._vars, self._env = saved_vars, {}
        state.result.sql = sql
        return state.result

    def _quick(self, path: str, text: str | None) -> str | None:
        """The text rendered without Jinja when the template is simple enough (see quick_jinja), else None."""
        if text is None:
            if path not in self._quick_templates:
                self._quick_templates[path] = QuickTemplate.read(self._texts[path])
            quick = self._quick_templates[path]
        else:
            quick = QuickTemplate.read(text)
        if quick is None:
            return None
        try:
            return quick.render(self.env.globals, self._state.at_line)
        except NotQuick:
            return None

    def relation_ref(self, relation: Relation, text: str) -> RelationRef:
        """A relation as templates see it, printing as `text`."""
        return RelationRef(relation, text, self._state.used)

    def _from_text(self, text: str, path: str) -> jinja2.Template:
        code = self.env.compile(text, path, path)
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def _run(self, template: jinja2.Template) -> str:
        context = template.new_context(self.env.globals, shared=True)
        try:
            return self.env.concat(template.root_render_func(context))
        except Exception:
            self.env.handle_exception()  # re-raises with the traceback mapped to template lines

    def _guarded(self, path: str, run: Callable[[], Any]) -> Any:
        """Run Jinja, turning its errors into TemplateErrors at the template's file:line."""
        try:
            return run()
        except SqlflowError:
            raise
        except jinja2.TemplateSyntaxError as exc:
            where = SourceLocation(exc.filename or exc.name or path, exc.lineno)
            raise TemplateError(f"template syntax error: {exc.message}", location=where) from exc
        except Exception as exc:
            raise self._runtime_error(exc, path) from exc

    def _runtime_error(self, exc: Exception, path: str) -> TemplateError:
        location = SourceLocation(path)
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self._texts or filename == path:
                location = SourceLocation(filename, tb.tb_lineno)
            tb = tb.tb_next
        if isinstance(exc, jinja2.UndefinedError):
            message = str(exc.message)
            found = _UNDEFINED_NAME.match(message)
            hint = did_you_mean(found.group(1), self.env.globals) if found else None
            return TemplateError(message, location=location, hint=hint)
        return TemplateError(f"{type(exc).__name__}: {exc}", location=location)

    def _load_macros(self) -> None:
        for file, name, value in self._macros_of(self._macro_files, self.env.globals):
            self.macros[name] = file.path
            self.env.globals[name] = value

    def _load_package_file(self, file: SourceFile, own: PackageMacros) -> dict[str, Any]:
        """The macros of one file of a package (`own`: that package's macros), seeing names as PackageScope
        says: the root project's macros, then dbt's, then the package's own, then the rest."""
        scope = PackageScope(own, self.macros, self.env.globals, self._dbt_macros)
        return {name: value for _, name, value in self._macros_of([file], scope)}

    def _macros_of(
        self, files: Iterable[SourceFile], scope: Mapping[str, Any]
    ) -> Iterator[tuple[SourceFile, str, Any]]:
        """(file, name, macro) of each macro the files define, with `scope` as their globals; a name
        defined twice among `files` is an error naming both files."""
        seen: dict[str, str] = {}
        for file in files:
            if not has_jinja(file.text):
                continue

            def load(path: str = file.path) -> Any:
                """The file's top-level names: its macros, `_private` ones too (a module hides them)."""
                template = self.env.get_template(path)
                context = template.new_context(scope, shared=True)  # type: ignore[arg-type]
                self.env.concat(template.root_render_func(context))
                return context.vars

            defined = self._guarded(file.path, load)
            for name, value in defined.items():
                if not isinstance(value, jinja2.runtime.Macro):
                    continue
                if name in seen:
                    raise TemplateError(
                        f"macro '{name}' is defined twice",
                        location=SourceLocation(file.path),
                        hint=f"also defined in {seen[name]}",
                    )
                seen[name] = file.path
                yield file, name, value


def _test_blocks_to_macros(text: str) -> str:
    if "test" not in text:
        return text
    text = _TEST_BLOCK.sub(lambda m: "{%" + m.group(1) + " macro test_" + m.group(2) + "(", text)
    return _END_TEST_BLOCK.sub(lambda m: "{%" + m.group(1) + " endmacro " + m.group(2) + "%}", text)
