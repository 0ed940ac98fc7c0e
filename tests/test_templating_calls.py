"""``{{ f(x) }}`` in our templates goes through ``templating._Context.call``, which calls the
callables ``_passes_nothing`` vouches for without Jinja's ``jinja_pass_arg`` tests (issue 16).

Its result must be what Jinja's own ``Context.call`` gives for every callable: the same
arguments passed (the context, the eval context or the environment where Jinja adds one), the
same errors. The references are the same templates rendered with Jinja's stock context class,
on real pages (the example site, two bench corpora, every page the builder makes) and on
hypothesis-made callables and values.
"""

from __future__ import annotations

import functools

import jinja2
import jinja2.nodes
import jinja2.runtime
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from jinja2.utils import _PassArg

from bench.corpus import write_corpus
from pipeline.caching.deferred import materialize
from pipeline.config.site import load_settings
from pipeline.outputs import pages
from pipeline.outputs.templating import _Context, _passes_nothing, environment
from pipeline.reading.content import read_content
from tests.conftest import NOW, REPO


def jinja_adds_nothing(obj: object) -> bool:
    """Jinja's own test in ``Context.call``: neither ``obj`` nor its ``__call__`` passes an arg."""
    return _PassArg.from_obj(obj) is None and _PassArg.from_obj(obj.__call__) is None


def plain(x=0, *rest, **named):
    return f"plain {x!r} {rest!r} {sorted(named)!r}"


@jinja2.pass_context
def with_context(context, x=0, *rest, **named):
    return f"context {context.get('who')!r} {x!r} {sorted(named)!r}"


@jinja2.pass_eval_context
def with_eval(eval_ctx, x=0, *rest, **named):
    return f"eval {eval_ctx.autoescape!r} {x!r}"


@jinja2.pass_environment
def with_env(env, x=0, *rest, **named):
    return f"env {type(env).__name__} {x!r}"


def stops(x=0, *rest, **named):
    raise StopIteration


class Holder:
    def method(self, x=0, *rest, **named):
        return f"method {x!r}"

    @jinja2.pass_context
    def context_method(self, context, x=0, *rest, **named):
        return f"context method {context.get('who')!r} {x!r}"


class CallsWithContext:
    @jinja2.pass_context
    def __call__(self, context, x=0, *rest, **named):
        return f"callable object {context.get('who')!r} {x!r}"


def tagged_plain(x=0, *rest, **named):  # a plain function told to take the context afterwards
    return f"tagged {x!r}"


tagged = functools.cache(lambda context, x=0, *rest, **named: f"tagged {context.get('who')!r} {x!r}")
tagged.jinja_pass_arg = _PassArg.context

CALLABLES = {
    "plain": plain,
    "lambda": lambda x=0, *rest, **named: f"lambda {x!r}",
    "cached": functools.cache(plain),
    "cached_context": functools.cache(with_context),  # wraps() copies jinja_pass_arg
    "tagged_cache": tagged,
    "with_context": with_context,
    "with_eval": with_eval,
    "with_env": with_env,
    "stops": stops,
    "method": Holder().method,
    "context_method": Holder().context_method,
    "callable_object": CallsWithContext(),
    "builtin": max,
    "builtin_method": "a-b".split,
    "partial": functools.partial(plain, 1),
    "class": str,
}

# Calls as templates write them: bare, with arguments, with keywords, inside a loop, inside a
# block and inside a macro (the places Jinja passes _loop_vars and _block_vars).
SOURCES = [
    "{{ f() }}",
    "{{ f(1) }}|{{ f(1, 2) }}",
    "{{ f(x=3) }}",
    "{% for who in ['a', 'b'] %}{{ f(loop.index) }};{% endfor %}",
    "{% set who = 'set' %}{{ f(2) }}",
    "{% block b %}{% set who = 'in block' %}{{ f(1) }}{% endblock %}",
    "{% macro m(y) %}{{ f(y) }}{% endmacro %}{{ m(4) }}",
    "{% if f(1) is defined %}defined{% else %}undefined{% endif %}",
]


def both_envs() -> tuple[jinja2.Environment, jinja2.Environment]:
    ours = jinja2.Environment(autoescape=True)
    ours.context_class = _Context
    stock = jinja2.Environment(autoescape=True)
    return ours, stock


def outcome(env: jinja2.Environment, source: str, values: dict) -> tuple[str, str]:
    try:
        return "ok", env.from_string(source).render(**values)
    except Exception as error:  # the same error, by type and text
        return type(error).__name__, str(error)


@pytest.mark.parametrize("name", sorted(CALLABLES))
@pytest.mark.parametrize("source", SOURCES)
def test_every_kind_of_callable_is_called_as_jinja_calls_it(name, source):
    ours, stock = both_envs()
    values = {"f": CALLABLES[name], "who": "page"}
    assert outcome(ours, source, values) == outcome(stock, source, values)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_the_shortcut_only_vouches_where_jinja_adds_nothing(name):
    obj = CALLABLES[name]
    if _passes_nothing(obj):
        assert jinja_adds_nothing(obj)


def test_the_shortcut_is_taken_for_what_pages_call():
    """Not a shortcut that never applies: the words, dates, links and methods pages call."""
    for obj in (plain, CALLABLES["lambda"], CALLABLES["cached"], Holder().method, max, "x".split):
        assert _passes_nothing(obj)
    for obj in (with_context, with_eval, with_env, tagged, CALLABLES["cached_context"]):
        assert not _passes_nothing(obj)


def what(value: object) -> str:
    """What Jinja passed first: the context (with what it sees), the eval context, the env."""
    if isinstance(value, jinja2.runtime.Context):
        return f"context {value.get('who')!r} {value.get('x')!r}"
    if isinstance(value, jinja2.nodes.EvalContext):
        return f"eval context {value.autoescape!r}"
    if isinstance(value, jinja2.Environment):
        return "environment"
    return repr(value)


kinds = st.sampled_from(["function", "cached", "method"])
tags = st.sampled_from([None, _PassArg.context, _PassArg.eval_context, _PassArg.environment])
args = st.lists(st.integers() | st.text(max_size=5) | st.none(), max_size=3)


@hsettings(max_examples=150, deadline=None)
@given(kind=kinds, tag=tags, on_func=st.booleans(), arguments=args, who=st.text(max_size=5))
def test_hostile_callables_and_arguments(kind, tag, on_func, arguments, who):
    def func(*a, **k):
        return repr([x if isinstance(x, (int, str, type(None))) else what(x) for x in a])

    if kind == "function":
        obj = func
    elif kind == "cached":
        obj = functools.lru_cache(maxsize=None)(func)
    else:
        obj = type("Owner", (), {"m": func})().m
    if tag is not None:  # the tag on the function itself, or on the wrapper/method's object
        target = func if on_func or kind == "method" else obj
        target.jinja_pass_arg = tag
    assert not _passes_nothing(obj) or jinja_adds_nothing(obj)
    ours, stock = both_envs()
    values = {"f": obj, "args": arguments, "who": who}
    for source in ("{{ f(*args) }}", "{% for x in args %}{{ f(x) }}{% endfor %}"):
        assert outcome(ours, source, values) == outcome(stock, source, values)


def test_our_environment_uses_the_context():
    assert environment().context_class is _Context


@pytest.mark.parametrize("seed", [3, 11])
def test_every_built_page_equals_jinja_stock_context(tmp_path, seed, monkeypatch):
    """Every page of the example site and of a bench corpus, rendered with both context classes."""
    settings = load_settings(REPO / "site.toml")
    corpus = write_corpus(tmp_path / "corpus", 120, seed=seed)
    for content in (REPO / "content", corpus):
        updates = list(read_content(content, settings, NOW).updates)
        ours = {path: materialize(out) for path, out in pages.build(updates, settings).items()}
        monkeypatch.setattr(settings.env, "context_class", jinja2.runtime.Context)
        stock = {path: materialize(out) for path, out in pages.build(updates, settings).items()}
        monkeypatch.undo()
        assert settings.env.context_class is _Context
        assert ours.keys() == stock.keys()
        assert [path for path in ours if ours[path] != stock[path]] == []
