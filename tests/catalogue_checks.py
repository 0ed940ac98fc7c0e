"""What the catalogue tests share: extracting message ids as ``pybabel extract -F babel.cfg``
does, reading a domain's ``.po`` file, and listing the used ids a catalogue does not translate."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from pipeline.locale import LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent


def extracted_ids(root: Path, keywords: dict | None = None) -> dict[str, str]:
    """Every message id used under ``root`` (singular id → where), as babel.cfg says to look."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    extra = {} if keywords is None else {"keywords": keywords}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, **extra
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:  # _(label) with a variable extracts as nothing
            found.setdefault(singular, f"{filename}:{lineno}")
    return found


def read_catalogue(domain: str, lang: str) -> Catalog:
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as po:
        return read_po(po, locale=lang)


def untranslated(used: dict[str, str], cat: Catalog) -> list[str]:
    """Used message ids the catalogue lacks or leaves untranslated or fuzzy (plural ids too)."""
    problems = []
    for msgid, where in sorted(used.items()):
        message = cat.get(msgid) or next(
            (m for m in cat if isinstance(m.id, tuple) and m.id[0] == msgid), None
        )
        strings = () if message is None else message.string
        strings = (strings,) if isinstance(strings, str) else strings
        if message is None or message.fuzzy or not all(strings):
            problems.append(f"{msgid!r} ({where})")
    return problems
