"""The embed script (shipped as-is, no build step) and the demo page that shows it at work."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from pipeline.config.site import TEMPLATES_DIR, Settings
from pipeline.locale import N_, babel_locale, languages, translations
from pipeline.outputs.snippets.documents import Scope
from pipeline.reading.model import Update

EMBED_SOURCE = TEMPLATES_DIR / "snippets" / "embed.js"
# What the script may weigh: partners add it to every page. The gzip budget is what travels over
# the network (docs/partners.md states it); the raw limit keeps the unminified source readable.
EMBED_MAX_BYTES = 12 * 1024
EMBED_MAX_GZIP_BYTES = 5 * 1024


# The widget's words: message ids of the catalogues (pipeline/locale), written into the script
# where it says /*goal17:words*/, one object per language with a catalogue.
WORDS_MARK = "/*goal17:words*/{}"
EMBED_WORDS = {
    "loading": N_("Hämtar nyheter …"),
    "fail": N_("Nyheterna kunde inte visas just nu."),
    "go": N_("Gå till nyheterna om mål 17"),
    "goT": N_("Gå till nyheterna om delmål {id}"),
    "none": N_("Inga nyheter ännu."),
    "more": N_("Alla nyheter"),
}


def embed_words() -> str:
    """The ``WORDS`` object of embed.js: each language's words and its BCP 47 tag for dates."""
    words = {}
    for lang in languages():
        gettext = translations(lang).gettext
        words[lang] = {key: gettext(message) for key, message in EMBED_WORDS.items()}
        words[lang]["date"] = str(babel_locale(lang)).replace("_", "-")
    return json.dumps(words, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def embed_script() -> bytes:
    return EMBED_SOURCE.read_text(encoding="utf-8").replace(WORDS_MARK, embed_words()).encode("utf-8")


def busiest_target(updates: Sequence[Update]) -> str:
    """The target with the most updates (lowest number on a tie), so the demo never looks empty."""
    counts = Counter(t for u in updates for t in u.targets)
    if not counts:
        return "17.17"
    return min(counts, key=lambda t: (-counts[t], int(t.split(".")[1])))


def demo_page(updates: Sequence[Update], settings: Settings, scopes: Sequence[Scope]) -> bytes:
    """A partner-style page with several widgets: latest, one target, English, and a themed one."""
    languages = sorted({u.lang for u in updates})
    other = next((lang for lang in languages if lang != settings.language), None)
    html = settings.env.get_template("snippets/demo.html").render(
        settings=settings,
        lang=settings.language,
        target=busiest_target(updates),
        other_lang=other or ("en" if settings.language == "sv" else "sv"),
        has_lang_files=any(s.kind == "lang" for s in scopes),
        embed_url=settings.url("snippets/embed.js"),
    )
    return html.encode("utf-8")
