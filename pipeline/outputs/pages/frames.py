"""A page's frame rendered once per variant, its blocks once per page.

An update page is ``pages/update.html`` extending ``pages/base.html``: the layout's code outside
the blocks (the doctype, ``<head>``, the header, the footer, the ``{% set %}`` lines) depends on
the page's language, its depth, the feeds and the settings, not on the update; the blocks
(``title``, ``description``, ``canonical``, ``main``…) are the update's own. :class:`Frames`
renders that outside code once per distinct value of what it reads, with a marker in place of
each block, and each page is then its blocks joined into the pieces between the markers. The
frame is the templates' own output, so a site's overridden templates are followed as written.

What the frame depends on is not guessed from the template's text but recorded while it is
rendered: every name the code outside the blocks resolves goes through a recording mapping, and
a later page reuses the frame only when each recorded name has the same value (strings, numbers
by type and value; any other object by identity, which holds for a build's settings, layouts and
remembered feed lists). The frame is not used, and the page is rendered by Jinja as before, when
the recording cannot vouch for it: the code asked for the whole context (an ``include``, an
``import … with context``), called a block other than by writing it out (``self.title() | trim``
is a function of the block's text), left a block's marker changed, moved or repeated, or set a
variable to anything but plain text or numbers before a block (a macro or a module would keep
the first page's context). It assumes what Jinja templates assume: the functions they call
(the globals, the filters) answer the same for the same arguments.
"""

from __future__ import annotations

import sys
from collections import ChainMap
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context, missing, new_context
from markupsafe import Markup

from pipeline.outputs.templating import render

# Values compared by type and value; anything else is compared by identity (and kept alive).
_PLAIN_TYPES = frozenset((str, Markup, int, float, bool, type(None)))
_MAX_FRAMES = 32  # distinct frames one template gets before pages are rendered whole again


class _Declined(Exception):
    """The frame cannot stand for every page with the same recorded values."""


class _Recorder(dict):  # type: ignore[type-arg]
    """The page's values, remembering each name the frame's code resolved and what it got."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.reads: dict[str, Any] = {}
        self.everything = False

    def __contains__(self, name: object) -> bool:
        found = dict.__contains__(self, name)
        if isinstance(name, str) and name not in self.reads:
            self.reads[name] = dict.__getitem__(self, name) if found else missing
        return found

    def __getitem__(self, name: str) -> Any:
        value = dict.__getitem__(self, name)
        self.reads.setdefault(name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if self.__contains__(name) else default

    def _all(self) -> Any:
        self.everything = True
        return dict.keys(self)

    def keys(self) -> Any:  # dict(parent), {**parent}: the whole context is read
        return self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def items(self) -> Any:
        self._all()
        return dict.items(self)

    def values(self) -> Any:
        self._all()
        return dict.values(self)

    def copy(self) -> dict[str, Any]:
        self._all()
        return dict(dict.items(self))


def _key(value: Any) -> tuple[Any, Any]:
    """``value`` as the frame's key compares it: plain values by type and value (``1`` and
    ``True``, ``"<"`` and ``Markup("<")`` render differently), other objects by identity."""
    if type(value) in _PLAIN_TYPES:
        return (type(value), value)
    return (id, id(value))  # ``missing`` included


class _Blocks(dict):  # type: ignore[type-arg]
    """``context.blocks`` while the frame is rendered: each block the code reaches is a marker.

    Jinja's templates write a block as ``context.blocks[name][0](context)``; a child template
    first adds its parents' blocks with ``setdefault(name, []).append(…)``, which keeps the
    real chains here for the pages."""

    def __init__(self, blocks: dict[str, list[Any]], marker: Any) -> None:
        super().__init__(blocks)
        self._marker = marker

    def __getitem__(self, name: str) -> list[Any]:
        return [partial(self._marker, name), *dict.__getitem__(self, name)[1:]]


class _Frame:
    """The frame's text around its blocks, and what each block saw when the frame reached it."""

    def __init__(
        self, template: jinja2.Template, values: dict[str, Any], plain: Callable[[Any], bool]
    ) -> None:
        env = template.environment
        recorder = _Recorder(values)
        context = template.new_context(recorder, shared=True)
        start = (context.eval_ctx.autoescape, context.eval_ctx.volatile)
        token = f"\x00frame-{id(self)}\x00"
        self.calls: list[tuple[str, dict[str, Any]]] = []

        def marker(block: str, ctx: Context) -> Iterator[str]:
            caller = sys._getframe(1)
            # Only the layout's own ``{% block %}`` may stand here: ``self.title()`` or a block
            # of another context (an import) is a value the frame would compute once.
            if caller.f_code.co_name != "root" or caller.f_globals.get("environment") is not env:
                raise _Declined
            if not plain(caller.f_globals.get("name")):  # written where its text is a value
                raise _Declined
            if ctx is not context or (ctx.eval_ctx.autoescape, ctx.eval_ctx.volatile) != start:
                raise _Declined
            seen = dict(ctx.vars)
            for value in seen.values():
                if type(value) not in _PLAIN_TYPES or (isinstance(value, str) and "\x00frame-" in value):
                    raise _Declined
            self.calls.append((block, seen))
            yield token

        context.blocks = blocks = _Blocks(context.blocks, marker)
        text = "".join(template.root_render_func(context))  # type: ignore[attr-defined]
        if recorder.everything:
            raise _Declined
        pieces = text.split(token)
        if len(pieces) != len(self.calls) + 1 or any("\x00frame-" in piece for piece in pieces):
            raise _Declined
        self.pieces = pieces
        self.blocks = {name: list(chain) for name, chain in dict.items(blocks)}
        self.reads = recorder.reads
        self.keep = list(self.reads.values())  # identities in the key stay unique while kept

    def render(self, template: jinja2.Template, values: dict[str, Any]) -> str:
        """The page of ``values``: its blocks, rendered by Jinja, joined into the frame."""
        context = page_context(template, values)
        context.blocks = {name: list(chain) for name, chain in self.blocks.items()}
        pieces = self.pieces
        out = [pieces[0]]
        for at, (block, seen) in enumerate(self.calls, 1):
            context.vars = dict(seen)
            out.extend(context.blocks[block][0](context))
            out.append(pieces[at])
        return "".join(out)


def page_context(template: jinja2.Template, values: dict[str, Any]) -> Context:
    """``template.new_context(values, shared=True)``, without its blocks (a frame sets its own).

    The context keeps the names of the template's globals, which ``new_context`` takes by
    iterating their ``ChainMap`` (Python code, a third of making a page's context); the union
    of its maps' keys is the same set, made in C.
    """
    names = template.globals
    if type(names) is not ChainMap:
        return template.new_context(values, shared=True)
    context = new_context(template.environment, template.name, {}, values, True, None, None)
    context.globals_keys = set().union(*names.maps)
    return context


class Frames:
    """Pages of one template rendered through frames, for one build (the frames keep objects
    of that build: its settings, its layouts)."""

    def __init__(self, template: jinja2.Template) -> None:
        self.template = template
        self._frames: dict[tuple[str, ...], dict[tuple[Any, ...], _Frame]] = {}
        self._count = 0
        self._off = False  # declined once, or too many variants: every page rendered whole
        self._plain_blocks: dict[str, bool] = {}

    def render(self, values: dict[str, Any]) -> str:
        """What ``render(self.template, values)`` gives (the dict becomes the page's context)."""
        if not self._off:
            frame = self._frame(values)
            if frame is not None:
                try:
                    return frame.render(self.template, values)
                except Exception:
                    self.template.environment.handle_exception()
        return render(self.template, values)

    def _plain(self, name: Any) -> bool:
        """Whether every ``{% block %}`` of template ``name`` is written out where it stands.

        A block inside ``{% set %}…{% endset %}``, ``{% filter %}``, a macro or a call block is
        rendered into a value that the code goes on to use (``| trim`` would change the page's
        block and keep the marker): such a layout is not rendered through a frame."""
        if not isinstance(name, str):
            return False
        known = self._plain_blocks.get(name)
        if known is None:
            env = self.template.environment
            try:
                source = env.loader.get_source(env, name)[0] if env.loader is not None else None
            except jinja2.TemplateNotFound:
                source = None
            known = source is not None and _blocks_written_out(env.parse(source))
            self._plain_blocks[name] = known
        return known

    def _frame(self, values: dict[str, Any]) -> _Frame | None:
        get = values.get
        for names, frames in self._frames.items():
            frame = frames.get(tuple([_key(get(name, missing)) for name in names]))
            if frame is not None:
                return frame
        if self._count >= _MAX_FRAMES:
            self._off = True
            return None
        try:
            frame = _Frame(self.template, values, self._plain)
        except Exception:  # _Declined, or an error the whole render reports as Jinja does
            self._off = True
            return None
        self._count += 1
        names = tuple(frame.reads)
        key = tuple([_key(value) for value in frame.reads.values()])
        self._frames.setdefault(names, {})[key] = frame
        return frame


# Statements a block may stand in and still be written out as it is rendered.
_OPEN = (nodes.Template, nodes.If, nodes.For, nodes.With, nodes.Scope, nodes.Block)


def _blocks_written_out(node: nodes.Node, inside_open: bool = True) -> bool:
    """No ``{% block %}`` under ``node`` is inside a statement that makes its text a value."""
    if isinstance(node, nodes.Block) and not inside_open:
        return False
    here = inside_open and isinstance(node, _OPEN)
    return all(_blocks_written_out(child, here) for child in node.iter_child_nodes())
