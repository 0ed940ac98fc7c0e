"""The naive single-process baseline from issue 8, measured in the same run as the pipeline.

What a straightforward script does: read each file, split off the front matter with PyYAML,
convert the body with Python-Markdown (one converter, reset per file, the same extensions as the
pipeline so the comparison is like for like), write one HTML page per update, then one RSS feed
with every update's full text via feedgen. No cache, no second core, no sanitizing.

    python -m bench.naive CONTENT_DIR OUT_DIR
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import markdown
import yaml
from feedgen.feed import FeedGenerator

from pipeline.reading.markdown_render import EXTENSION_CONFIGS, EXTENSIONS

TZ = ZoneInfo("Europe/Stockholm")
BASE = "https://bench.example/"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body><article><h1>{title}</h1><p><time datetime="{date}">{date}</time></p>
{body}
</article></body></html>
"""


def build(content_dir: Path, out_dir: Path) -> int:
    """Build pages and one full-text RSS feed; returns how many updates were written."""
    md = markdown.Markdown(extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    entries = []
    for path in sorted(content_dir.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, meta_text, body = text.split("---\n", 2)
        meta = yaml.safe_load(meta_text)
        md.reset()
        body_html = md.convert(body)
        slug = path.stem
        date = _aware(meta["date"])
        page = out_dir / "updates" / slug / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(
            PAGE.format(
                lang=meta.get("lang", "sv"),
                title=html.escape(str(meta["title"])),
                date=date.isoformat(),
                body=body_html,
            ),
            encoding="utf-8",
        )
        entries.append((date, str(meta["id"]), str(meta["title"]), f"{BASE}updates/{slug}/", body_html))
    media = content_dir / "media"
    if media.is_dir():
        shutil.copytree(media, out_dir / "media")

    feed = FeedGenerator()
    feed.title("Naive baseline")
    feed.link(href=BASE, rel="alternate")
    feed.description("All updates, full text")
    feed.language("sv")
    for date, entry_id, title, link, body_html in sorted(entries):
        entry = feed.add_entry()
        entry.id(entry_id)
        entry.title(title)
        entry.link(href=link)
        entry.published(date)
        entry.content(body_html, type="CDATA")
    (out_dir / "rss.xml").write_bytes(feed.rss_str(pretty=False))
    return len(entries)


def _aware(value: object) -> datetime:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=TZ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.naive", description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    count = build(args.content, args.out)
    print(f"naive: {count} updates into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
