"""The embed script (shipped as-is, no build step) and the demo page that shows it at work."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from operator import attrgetter

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


def embed_script(source: bytes | None = None) -> bytes:
    """The script with its words written in; ``source``: the file's bytes, if read already."""
    text = EMBED_SOURCE.read_text(encoding="utf-8") if source is None else source.decode("utf-8")
    return text.replace(WORDS_MARK, embed_words()).encode("utf-8")


def busiest_target(updates: Sequence[Update]) -> str:
    """The target with the most updates (lowest number on a tie), so the demo never looks empty."""
    counts: Counter[str] = Counter()
    try:  # counted per distinct tuple of targets: a few hundred, not every update's targets
        tuples = Counter(map(attrgetter("targets"), updates))
    except TypeError:  # a list of targets (made in a test): not hashable
        tuples = Counter(tuple(u.targets) for u in updates)
    for targets, count in tuples.items():
        for target in targets:
            counts[target] += count
    if not counts:
        return "17.17"
    return min(counts, key=lambda t: (-counts[t], int(t.split(".")[1])))


DemoInputs = tuple[str, str, bool]  # (target, other language, has language files)


def demo_inputs(updates: Sequence[Update], settings: Settings, scopes: Sequence[Scope]) -> DemoInputs:
    """What the demo page shows of the content: everything else is settings and templates."""
    languages = sorted(set(map(attrgetter("lang"), updates)))
    other = next((lang for lang in languages if lang != settings.language), None)
    return (
        busiest_target(updates),
        other or ("en" if settings.language == "sv" else "sv"),
        any(s.kind == "lang" for s in scopes),
    )


def demo_page(settings: Settings, shown: DemoInputs) -> bytes:
    """A partner-style page with several widgets: latest, one target, English, and a themed one."""
    target, other_lang, has_lang_files = shown
    html = settings.env.get_template("snippets/demo.html").render(
        settings=settings,
        lang=settings.language,
        target=target,
        other_lang=other_lang,
        has_lang_files=has_lang_files,
        embed_url=settings.url("snippets/embed.js"),
    )
    return html.encode("utf-8")
