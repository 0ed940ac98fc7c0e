"""The copy-paste sign-up form for partner sites: ``snippets/subscribe.html`` (a pure builder).

The form posts cross-origin to the subscription service's ``/subscribe`` and works without
scripts (the browser then shows the service's answer page); an optional inline script sends it
with ``fetch`` instead and shows the answer in place (CORS: ``[web] allowed_origins``).
``subscribe.html`` is in the site's language; ``subscribe.<lang>.html`` is in each language.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pipeline.caching.deferred import Deferred, Output
from pipeline.caching.fingerprint import digest
from pipeline.config.site import LANGUAGES, Settings
from pipeline.reading.model import Update

PATH = "snippets/subscribe.html"


def render(settings: Settings, lang: str) -> bytes:
    from pipeline.web.texts import texts  # the service's words: only when a form is made

    template = settings.env.get_template("web/partner_form.html")
    html = template.render(lang=lang, T=texts(lang), settings=settings, web=settings.web, chosen=(), error="")
    return html.encode("utf-8")


def build(updates: Sequence[Update], settings: Settings) -> dict[str, bytes]:
    """The form in the site's language and in each supported language; ``updates`` is unused."""
    return {path: render(settings, lang) for path, lang in _forms(settings)}


def describe(updates: Sequence[Update], settings: Settings) -> dict[str, Output]:
    """:func:`build` deferred, the site build's builder: a form shows no update, only the
    settings, the templates and the code (all in the context digest), so a build whose
    settings did not change neither renders nor compares it (three Jinja templates compiled
    and rendered on every build before)."""
    context = settings.context_digest
    return {
        path: Deferred(digest(context, "signup form", path, lang), partial(render, settings, lang))
        for path, lang in _forms(settings)
    }


def _forms(settings: Settings) -> list[tuple[str, str]]:
    """(path, language) of each form: the site's language first, then each supported one."""
    return [(PATH, settings.language), *((f"snippets/subscribe.{lang}.html", lang) for lang in LANGUAGES)]
