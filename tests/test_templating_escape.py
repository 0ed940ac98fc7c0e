"""``{{ … }}`` in our templates escapes through ``templating.quick_escape``, which must give
exactly what ``markupsafe.escape`` gives: the same text and the same type, for any value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from pipeline.outputs.templating import environment, quick_escape


class Html:
    def __init__(self, text: str) -> None:
        self.text = text

    def __html__(self) -> str:
        return self.text


class OwnMarkup(Markup):
    def __html__(self) -> Markup:
        return Markup(f"<b>{str.__str__(self)}</b>")


text = st.lists(st.sampled_from([*"<>&\"'x é\x00", "\u202e", "&amp;"]), max_size=20).map("".join)
values = (
    text
    | text.map(Markup)
    | text.map(escape)
    | text.map(OwnMarkup)
    | text.map(Html)
    | st.integers()
    | st.none()
    | st.floats(allow_nan=False)
    | st.lists(text, max_size=2)
)


@given(value=values)
def test_quick_escape_gives_what_escape_gives(value):
    quick, reference = quick_escape(value), escape(value)
    assert quick == reference
    assert type(quick) is type(reference)


@given(value=values)
def test_templates_write_what_plain_jinja_writes(value):
    import jinja2

    ours = environment().from_string("[{{ v }}]")
    plain = jinja2.Environment(autoescape=True).from_string("[{{ v }}]")
    assert ours.render(v=value) == plain.render(v=value)
    assert ours.root_render_func.__globals__["escape"] is quick_escape
