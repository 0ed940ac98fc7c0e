"""The copy-paste sign-up form for partner sites: ``snippets/subscribe.html`` (a pure builder).

The form posts cross-origin to the subscription service's ``/subscribe`` and works without
scripts (the browser then shows the service's answer page); an optional inline script sends it
with ``fetch`` instead and shows the answer in place (CORS: ``[web] allowed_origins``).
``subscribe.html`` is in the site's language; ``subscribe.<lang>.html`` is in each language.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.config.site import LANGUAGES, Settings
from pipeline.reading.model import Update
from pipeline.web.texts import texts

PATH = "snippets/subscribe.html"


def render(settings: Settings, lang: str) -> bytes:
    template = settings.env.get_template("web/partner_form.html")
    html = template.render(lang=lang, T=texts(lang), settings=settings, web=settings.web, chosen=(), error="")
    return html.encode("utf-8")


def build(updates: Sequence[Update], settings: Settings) -> dict[str, bytes]:
    """The form in the site's language and in each supported language; ``updates`` is unused."""
    files = {PATH: render(settings, settings.language)}
    for lang in LANGUAGES:
        files[f"snippets/subscribe.{lang}.html"] = render(settings, lang)
    return files
