"""The one Jinja2 environment every builder renders with (pages, newsletter, snippets demo, web).

It has Jinja's ``i18n`` extension: templates write ``{{ _("Publicerad") }}`` and get the text in
the language of the render's ``lang`` from :mod:`pipeline.locale`.
"""

from __future__ import annotations

import functools
import types
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.runtime
import markupsafe
from jinja2.utils import internalcode

from pipeline.config.site import TEMPLATES_DIR
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale import SOURCE_LANGUAGE, translations
from pipeline.outputs.labels import format_number
from pipeline.outputs.template_files import template_fingerprint as template_fingerprint
from pipeline.reading.dates import display_date, rfc3339


@cache
def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """HTML-autoescaping, strict about undefined names so a template typo fails the build.

    Compiled templates are kept in Jinja's per-user bytecode cache (a private folder under the
    temporary directory, checked by each template's source checksum), so a build does not spend
    a quarter of a second compiling the same templates again; the output is the same either way.
    """
    env = jinja2.Environment(
        bytecode_cache=_bytecode_cache(),
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html", "xml", "mjml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.template_class = _Template
    env.context_class = _Context
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["rfc3339"] = rfc3339
    env.globals["taxonomy"] = load_taxonomy()
    env.globals["display_date"] = display_date
    env.globals["format_number"] = format_number
    return env


def quick_escape(value: Any) -> markupsafe.Markup:
    """:func:`markupsafe.escape`, without its round trip for text already escaped.

    ``escape(Markup)`` calls ``__html__`` and builds a new ``Markup`` from it (two Python calls
    and a copy); a template writes a dozen such values per page (the translated words, the
    cached layout parts, the body). An exact ``Markup`` is returned as it is, an exact ``str``
    escaped straight into a ``Markup``; anything else goes to ``escape``.
    """
    kind = type(value)
    if kind is markupsafe.Markup:
        return value
    if kind is str and _escape_inner is not None:
        return _new_str(markupsafe.Markup, _escape_inner(value))
    return markupsafe.escape(value)


_escape_inner = getattr(markupsafe, "_escape_inner", None)  # markupsafe's own C escaping
_new_str = str.__new__


class _Template(jinja2.Template):
    """Templates whose ``{{ … }}`` escape through :func:`quick_escape` (the same text and type)."""

    @classmethod
    def _from_namespace(
        cls, environment: jinja2.Environment, namespace: Any, globals: Any
    ) -> jinja2.Template:
        if namespace.get("escape") is markupsafe.escape:  # what the compiled module imported
            namespace["escape"] = quick_escape
        return super()._from_namespace(environment, namespace, globals)


_FUNCTION, _METHOD, _BUILTIN = types.FunctionType, types.MethodType, types.BuiltinFunctionType
_CACHED = functools._lru_cache_wrapper  # type: ignore[attr-defined]  # functools.cache's wrapper


def _passes_nothing(obj: Any) -> bool:
    """Whether Jinja's ``Context.call`` would call ``obj`` as it is, with no argument added.

    It adds one where ``obj`` or its ``__call__`` has a ``jinja_pass_arg`` attribute. These types
    have no such attribute of their own and take one only in their instance ``__dict__`` (a
    method, from its function's); their ``__call__`` is a slot wrapper, which takes none. Any
    other callable is left to Jinja's own test.
    """
    kind = type(obj)
    if kind is _FUNCTION or kind is _CACHED:
        return "jinja_pass_arg" not in obj.__dict__
    if kind is _METHOD:
        func = obj.__func__
        return type(func) is _FUNCTION and "jinja_pass_arg" not in func.__dict__
    return kind is _BUILTIN


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling plain functions without its per-call tests.

    Every ``{{ f(x) }}`` in a template is ``context.call(f, x)``, which looks for a
    ``jinja_pass_arg`` on ``f`` and on ``f.__call__`` (two ``hasattr`` through an enum method)
    before calling it: a tenth of an update page's cost, for its words, dates and badges. A
    callable :func:`_passes_nothing` vouches for is called with the same arguments Jinja would
    pass; any other goes through Jinja's ``call``.
    """

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805  (Jinja's names)
        if __debug__:
            __traceback_hide__ = True  # noqa: F841  (Jinja hides this frame from tracebacks)
        if not _passes_nothing(__obj):
            return jinja2.runtime.Context.call(__self, __obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


def render(template: jinja2.Template, values: dict[str, Any]) -> str:
    """``template.render(values)`` for a dict that already holds the template's globals.

    What a builder rendering thousands of pages calls: ``Template.render`` copies the globals
    (a ChainMap) and the values into a new dict for each page, which is a twentieth of an update
    page's cost; here the caller's dict is the context itself (it must not be reused). Errors
    are reported as ``render`` reports them.
    """
    context = template.new_context(values, shared=True)
    try:
        return template.environment.concat(template.root_render_func(context))  # type: ignore[attr-defined]
    except Exception:
        template.environment.handle_exception()


# ``_()``, ``{% trans %}`` and ``ngettext`` translate into the language of the page being rendered:
# the ``lang`` every render passes. One environment serves all languages (a per-language
# environment would compile and cache every template once per language, and every caller would
# have to pick one); Jinja's newstyle gettext still escapes the fields and fills ``%(name)s``.
@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return translations(_lang(context)).gettext(message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return translations(_lang(context)).ngettext(singular, plural, n)


def _lang(context: jinja2.runtime.Context) -> str:
    lang = context.get("lang")
    return lang if isinstance(lang, str) else SOURCE_LANGUAGE


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable private temporary folder: compile every time
        return None
