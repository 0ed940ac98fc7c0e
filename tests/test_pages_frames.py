"""Update pages assembled from a frame equal the pages Jinja renders whole (issue 16).

``pages.build`` renders the layout around an update page's blocks once per language and depth
(:mod:`pipeline.outputs.pages.frames`) and joins each page's blocks into it. The reference is the
page rendered whole by ``templating.render`` from the same values. Pages are built many at a
time, so a frame made for one page is reused for the others (a wrong key would show there):
the example site, bench corpora with two seeds, a structure-dense corpus (made of the wider
Markdown set), hostile values in every language, and sites whose own templates the frame must follow or
refuse.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from bench.dense_corpus import write_dense_corpus
from pipeline.caching.deferred import materialize
from pipeline.config.site import LANGUAGES, TEMPLATES_DIR, load_settings
from pipeline.outputs import pages
from pipeline.outputs.pages import frames as frames_module
from pipeline.outputs.pages.frames import Frames
from pipeline.outputs.templating import render
from pipeline.reading.content import read_content
from pipeline.reading.model import Image, Update
from tests.conftest import NOW, REPO


def build_both(updates: list[Update], settings) -> tuple[dict[str, bytes], dict[str, bytes], list[Frames]]:
    """Every update page through frames and rendered whole, and the builds' Frames."""
    made: list[Frames] = []
    real_init = Frames.__init__

    def remember(self, template):
        real_init(self, template)
        made.append(self)

    paths = [f"{u.path}index.html" for u in updates]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Frames, "__init__", remember)
        files = pages.build(updates, settings)
        framed = {path: materialize(files[path]) for path in paths}
        patch.setattr(Frames, "render", lambda self, values: render(self.template, values))
        files = pages.build(updates, settings)
        whole = {path: materialize(files[path]) for path in paths}
    return framed, whole, made


@pytest.fixture(scope="module")
def site():
    settings = load_settings(REPO / "site.toml")
    return settings, list(read_content(REPO / "content", settings, NOW).updates)


def corpora(tmp: Path) -> list[Path]:
    folders = [REPO / "content"]
    folders += [write_corpus(tmp / f"corpus{seed}", 60, seed=seed) for seed in (17, 5)]
    folders.append(write_dense_corpus(tmp / "dense", 30))  # its bodies: tests/data/markdown_wider
    return folders


def test_real_pages_from_frames_equal_whole_pages(tmp_path, site):
    settings = site[0]
    checked = 0
    for folder in corpora(tmp_path):
        updates = list(read_content(folder, settings, NOW).updates)
        framed, whole, made = build_both(updates, settings)
        assert framed == whole, folder
        assert not made[0]._off and made[0]._count >= 1  # the frame was used, not declined
        checked += len(framed)
    assert checked > 150


hostile_text = st.lists(
    st.sampled_from([*"<&\"'> aé", "שלום", "\u202e", "{{", "%}", "\x00frame-1\x00", "<root/>", "x" * 300]),
    max_size=12,
).map("".join)

hostile_update = st.fixed_dictionaries(
    {
        "title": hostile_text,
        "summary": hostile_text,
        "author": st.none() | hostile_text,
        "tags": st.lists(hostile_text, max_size=3).map(tuple),
        "image": st.none()
        | st.builds(
            Image,
            url=st.sampled_from(
                ["https://mal17.example.se/media/x.png", "https://elsewhere.example/<a>.png"]
            ),
            alt=hostile_text,
            width=st.none() | st.integers(1, 2000),
            height=st.integers(1, 2000),
        ),
        "lang": st.sampled_from(LANGUAGES),
        "slug": st.sampled_from(["a", "b-c", "2026/x", "y/z/w"]),
        "url": st.sampled_from(["", "https://mal17.example.se/updates/a/", '"<>&']),
        "toc": st.booleans(),
        "later": st.booleans(),
    }
)


@given(fields=st.lists(hostile_update, min_size=1, max_size=6))
@hsettings(max_examples=60, deadline=None)
def test_hostile_pages_from_frames_equal_whole_pages(site, fields):
    settings, example = site
    updates = []
    for number, change in enumerate(fields):
        update = example[number % len(example)]
        toc, later = change.pop("toc"), change.pop("later")
        change["slug"] = f"{change['slug']}-{number}"
        updates.append(
            dataclasses.replace(
                update,
                **change,
                toc_html=update.toc_html if toc else "",
                updated=update.date.replace(year=update.date.year + 1) if later else update.date,
            )
        )
    framed, whole, _ = build_both(updates, settings)
    assert framed == whole


# A site's own layouts: the frame follows what they read, or declines and the page is whole.
OWN_LAYOUTS = {
    # main's layout before the canonical link moved into a block: a frame per page, then whole
    "canonical outside a block": (
        "{% block canonical %}",
        '{% set here = canonical %}{% if here %}<link rel=canonical href="{{ here }}">{% endif %}'
        "{% block canonical %}",
        True,
    ),
    "a block's text used as a value": ("<title>", "<i>{{ self.title() | trim | length }}</i><title>", False),
    "a block inside set": (
        "{% block canonical %}",
        "{% set c %}{% block canonical %}{% endblock %}{% endset %}{{ c | trim }}{% block unused %}",
        False,
    ),
    "a block inside filter": ("{% block canonical %}", "{% filter trim %}{% block canonical %}", False),
    "an include reading the update": ("</head>", '{% include "pages/_own.html" %}</head>', False),
    "a macro reading the update": (
        "<!DOCTYPE html>",
        "{% macro own() %}{{ update.title }}{% endmacro %}{% set mine = own %}<!DOCTYPE html>",
        False,
    ),
    "a layout reading the language and the title only through blocks": (
        "<body>",
        '<body data-lang="{{ lang | upper }}">{% if feeds %}<!-- feeds -->{% endif %}',
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(OWN_LAYOUTS))
def test_own_layouts_render_as_jinja_renders_them(tmp_path, site, name):
    old, new, per_page = OWN_LAYOUTS[name]
    own = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, own)
    base = own / "pages" / "base.html"
    text = base.read_text()
    assert old in text
    if name == "a block inside filter":
        text = text.replace(
            "{% endblock %}\n{% block head %}", "{% endblock %}{% endfilter %}\n{% block head %}"
        )
    base.write_text(text.replace(old, new, 1))
    (own / "pages" / "_own.html").write_text("<!-- {{ update.title if update is defined }} -->\n")
    settings = site[0].with_overrides(templates_dir=str(own))
    updates = [dataclasses.replace(u, lang=LANGUAGES[n % len(LANGUAGES)]) for n, u in enumerate(site[1])]
    framed, whole, made = build_both(updates, settings)
    assert framed == whole
    frames = made[0]
    if per_page is None:  # an ordinary layout: a frame per language, shared by the pages
        assert not frames._off and frames._count == len({u.lang for u in updates})
    elif per_page:  # the canonical link outside a block: one frame per page until the cap
        assert frames._count == min(len(updates), frames_module._MAX_FRAMES)
    else:
        assert frames._off and frames._count == 0


def test_errors_in_blocks_are_reported_as_jinja_reports_them(site):
    settings, example = site
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "base.html": "<h>{{ lang }}</h>{% block main %}{% endblock %}",
                "page.html": '{% extends "base.html" %}{% block main %}{{ update.missing.attr }}{% endblock %}',
            }
        ),
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("page.html")
    framed = Frames(template)
    for update in example[:3]:
        with pytest.raises(jinja2.UndefinedError) as whole:
            render(template, {"lang": "sv", "update": update})
        with pytest.raises(jinja2.UndefinedError) as through:
            framed.render({"lang": "sv", "update": update})
        assert str(through.value) == str(whole.value)
    assert framed._count == 1


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


def test_a_frame_is_reused_only_for_the_same_values():
    """Plain values by type and value (``1``, ``True`` and ``1.0`` render differently, so do
    ``"<"`` and ``Markup("<")``), other objects by identity (two objects with equal names are
    two frames); names the layout did not read do not matter."""
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "base.html": "{{ obj.name }}|{{ flag }}|{% block main %}{% endblock %}|{{ mark }}",
                "page.html": '{% extends "base.html" %}{% block main %}{{ text }}{% endblock %}',
            }
        ),
        autoescape=True,
    )
    template = env.get_template("page.html")
    framed = Frames(template)
    first, second = Named("a"), Named("a")
    values = [
        {"obj": first, "flag": 1, "mark": "<", "text": "x"},
        {"obj": first, "flag": 1, "mark": "<", "text": "y"},  # the same frame
        {"obj": second, "flag": 1, "mark": "<", "text": "x"},
        {"obj": first, "flag": True, "mark": "<", "text": "x"},
        {"obj": first, "flag": 1.0, "mark": "<", "text": "x"},
        {"obj": first, "flag": 1, "mark": Markup("<"), "text": "x"},
    ]
    second.name = "b"  # equal objects would do as well; these differ to show a shared frame
    for value in values:
        assert framed.render(dict(value)) == render(template, dict(value))
    assert framed._count == 5


@pytest.mark.parametrize("name", ["pages/update.html", "pages/list.html", "pages/404.html"])
@pytest.mark.parametrize("own_globals", [None, {"extra": 1, "taxonomy": "own"}])
def test_a_page_context_is_jinjas_context_without_blocks(site, name, own_globals):
    """``frames.page_context`` makes what ``Template.new_context(values, shared=True)`` makes
    (the same parent dict, names of globals, evaluation context), with no blocks."""
    env = site[0].env
    if own_globals is None:
        template = env.get_template(name)
    else:  # an uncached overlay: get_template(globals=...) would add them to the shared cached template
        template = env.overlay(cache_size=0).get_template(name, globals=own_globals)
        assert "extra" not in env.get_template(name).globals
    values = {"lang": "sv"}
    made, wanted = frames_module.page_context(template, values), template.new_context(values, shared=True)
    assert type(made) is type(wanted) and made.parent is values
    mine, jinjas = dict(vars(made)), dict(vars(wanted))
    assert mine.pop("blocks") == {} and jinjas.pop("blocks")
    assert vars(mine.pop("eval_ctx")) == vars(jinjas.pop("eval_ctx"))
    assert mine == jinjas
    assert made.globals_keys >= {"taxonomy", "display_date", *(own_globals or ())}
