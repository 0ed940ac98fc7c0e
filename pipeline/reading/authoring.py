"""Creating a new update file, so authors never invent an id or type a date format by hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pipeline.config.site import LANGUAGES, Settings
from pipeline.config.taxonomy import load_taxonomy
from pipeline.locale.cli import tr
from pipeline.reading.ids import mint_id
from pipeline.reading.slugs import slugify
from pipeline.reading.validation import CONTROL_CHARACTERS as _CONTROL


class AuthoringError(ValueError):
    pass


def new_update_text(
    title: str, settings: Settings, now: datetime, lang: str | None = None, targets: list[str] | None = None
) -> str:
    """Front matter with a freshly minted id and ``now``, marked as a draft, plus a body prompt."""
    if not title.strip():
        raise AuthoringError(tr("the title must not be empty"))
    control = _CONTROL.search(title.strip())
    if control:
        raise AuthoringError(
            tr(
                "the title must be plain text on one line: it contains the control character U+{code:04X}",
                code=ord(control.group()),
            )
        )
    lang = lang or settings.language
    if lang not in LANGUAGES:
        raise AuthoringError(
            tr(
                "language must be one of {languages}, got {value}",
                languages=", ".join(LANGUAGES),
                value=repr(lang),
            )
        )
    taxonomy = load_taxonomy()
    for target in targets or []:
        if not taxonomy.has_target(target):
            raise AuthoringError(tr("unknown goal-17 target {value}: use 17.1 … 17.19", value=repr(target)))
    local = now.astimezone(settings.tz)
    target_list = ", ".join(json.dumps(t) for t in taxonomy.sort_targets(targets or []))
    lines = [
        "---",
        f"id: {json.dumps(mint_id(settings.host, local.date()))}  # never change this line",
        f"title: {json.dumps(title.strip(), ensure_ascii=False)}",
        f"date: {local.strftime('%Y-%m-%dT%H:%M')}",
        f"targets: [{target_list}]",
        "tags: []",
    ]
    if lang != settings.language:
        lines.append(f"lang: {lang}")
    lines += ["draft: true  # change to false (or remove) to publish", "---", ""]
    prompt = (
        "Write the first paragraph here: it becomes the summary in feeds and newsletters.\n"
        if lang == "en"
        else "Skriv första stycket här: det blir sammanfattningen i flöden och nyhetsbrev.\n"
    )
    return "\n".join(lines) + prompt


def create_update(
    content_dir: str | Path,
    title: str,
    settings: Settings,
    now: datetime,
    lang: str | None = None,
    targets: list[str] | None = None,
    slug: str | None = None,
) -> Path:
    """Write ``content_dir/<slug>.md``; refuses to overwrite an existing file."""
    name = slugify(slug or title)
    if not name:
        raise AuthoringError(tr("cannot make a file name from {title}; pass --slug", title=repr(title)))
    path = Path(content_dir) / f"{name}.md"
    if path.exists():
        raise AuthoringError(tr("{path} already exists; choose another title or --slug", path=path))
    text = new_update_text(title, settings, now, lang=lang, targets=targets)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return path
