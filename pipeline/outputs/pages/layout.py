"""What every page repeats, rendered once per variant instead of once per page.

The layout (``templates/pages/base.html``) takes its head links, header, footer and the index of
all targets from the macros in ``templates/pages/_layout.html``. Those parts depend only on the
page's language, its relative root, the area it belongs to and the feeds it offers, so a build
renders each variant once (a dozen of them) and 12,000 pages reuse the text. The newsletter
archive, rendered elsewhere, imports the same macros itself (see ``base.html``), so there is one
layout and one source for each part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache, partial
from operator import attrgetter
from typing import Any, NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup

from pipeline.config.site import Settings
from pipeline.locale import babel_locale, translations
from pipeline.outputs import urls


class FeedLink(NamedTuple):
    type: str
    href: str
    format: str


FEED_FORMATS = (
    ("application/rss+xml", "rss.xml", "RSS"),
    ("application/atom+xml", "atom.xml", "Atom"),
    ("application/feed+json", "feed.json", "JSON Feed"),
)


@cache
def feed_links(root: str, prefix: str = urls.FEEDS) -> tuple[FeedLink, ...]:
    """The feeds under ``prefix`` (rel=alternate and the footer's links), from a page at ``root``.

    Remembered (a tuple of tuples, never changed): 12,000 pages ask for a handful of them."""
    return tuple(FeedLink(kind, f"{root}{prefix}{name}", label) for kind, name, label in FEED_FORMATS)


def subscribe_url(settings: Settings, target_ids: Sequence[str] = ()) -> str:
    """The service's sign-up form, with these targets ticked (``GET /subscribe?targets=…``)."""
    query = urlencode([("targets", t) for t in target_ids])
    return settings.web.url("subscribe") + (f"?{query}" if query else "")


_DAYS: dict[tuple[Any, str, Any], str] = {}  # (local day, language, zone) -> text; a few thousand at most


def cached_display_date(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    """:func:`display_date`, remembered per local day: CLDR formatting was a tenth of a page's cost.

    ``tests/test_pages_dates.py`` holds it to :func:`display_date` for any moment, zone and language."""
    day = moment.astimezone(tz).date()
    key = (day, lang, tz)
    text = _DAYS.get(key)
    if text is None:
        text = _DAYS[key] = _long_date(lang)(day)
    return text


# What each field of a date pattern reads of the day, for the fields that read one part only:
# ``d`` the day of the month, ``M``/``L`` (number or name) the month, ``y`` the calendar year.
_FIELD_PARTS = {"d": "day", "M": "month", "L": "month", "y": "year"}
_FIELD = re.compile(r"%\((\w+)\)s")


@cache
def _long_date(lang: str) -> Callable[[date], str]:
    """:func:`display_date`'s Babel call (``format_date(day, "long", locale)``) for one language.

    The pattern and the locale are parsed once (``format_date`` parsed them for each of the
    5,000 days a 10k build shows). Where each of the pattern's fields reads one part of the day
    (:data:`_FIELD_PARTS`: the ``d MMMM y`` of both site languages), a field's text is Babel's
    own, made once per value of that part and then filled into the pattern's format: a day not
    seen before was a Babel ``apply`` (a ``DateTimeFormat`` and a call per field), a twelfth of
    an update page; any other pattern is applied by Babel each time.
    """
    from babel import dates as babel_dates

    locale = babel_locale(lang)
    pattern = babel_dates.parse_pattern(babel_dates.get_date_format("long", locale=locale))
    names = _FIELD.findall(pattern.format)
    if not names or any(name[0] not in _FIELD_PARTS for name in names):
        return partial(pattern.apply, locale=locale)
    fields = [(name, attrgetter(_FIELD_PARTS[name[0]]), {}) for name in dict.fromkeys(names)]
    template = pattern.format

    def long_date(day: date) -> str:
        values = {}
        for name, part, texts in fields:
            value = part(day)
            text = texts.get(value)
            if text is None:
                text = texts[value] = babel_dates.DateTimeFormat(day, locale)[name]
            values[name] = text
        return template % values

    return long_date


def page_gettext(lang: str) -> Callable[[str], Markup]:
    """``_()`` for templates rendering one language, remembered per message.

    The same value Jinja's newstyle gettext gives an autoescaping template (the translation as
    Markup, ``%`` formatting applied with no fields), without its three nested context calls per
    word: a page says a dozen words, 12,000 pages at 10k.
    """
    gettext = translations(lang).gettext
    words: dict[str, Markup] = {}

    def _(message: str) -> Markup:
        word = words.get(message)
        if word is None:
            word = words[message] = Markup(gettext(message)) % {}
        return word

    return _


class Layout:
    """The repeated parts of pages in one language, each variant rendered once per build.

    ``module(name)`` is a template of macros made with this language's context (its ``_()``
    translates into ``lang``); each macro is wrapped in a cache keyed by its (hashable) arguments.
    """

    def __init__(self, settings: Settings, lang: str, extra: dict[str, Any]) -> None:
        self.lang = lang
        self._settings = settings
        self._extra = extra
        self._modules: dict[str, Any] = {}
        self.gettext = page_gettext(lang)
        parts = self.module("pages/_layout.html")
        self.head: Callable[..., Markup] = cache(parts.head)
        self.header: Callable[..., Markup] = cache(parts.header)
        self.footer: Callable[..., Markup] = cache(parts.footer)
        self.all_targets: Callable[..., Markup] = cache(parts.all_targets)
        self.update_end: Callable[..., Markup] = cache(parts.update_end)
        items = self.module("pages/_item.html")
        self.badges: Callable[..., Markup] = cache(lambda ids, root: items.badge_list(tuple(ids), root))
        self.row: Callable[..., Markup] = items.row

    def module(self, name: str) -> Any:
        if name not in self._modules:
            context = {
                "settings": self._settings,
                "lang": self.lang,
                "_": self.gettext,
                "badges": lambda ids, root: self.badges(ids, root),
                **self._extra,
            }
            self._modules[name] = self._settings.env.get_template(name).make_module(context)
        return self._modules[name]
