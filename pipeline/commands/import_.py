"""``import``: import existing news from an RSS/Atom feed or a WordPress export.

Turn every item of an RSS 2.0 or Atom feed (a file or an http(s) URL) or of a WordPress export (WXR,
Tools → Export) into one update file in the content folder. Never overwrites a file; on any error
nothing is written. Prints what was imported and what needs a human. See docs/import.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands._options import CommandFailed, add_config, add_content, settings_from, unexpected
from pipeline.config.site import Settings
from pipeline.importing import atom, rss, wxr, xmlparse
from pipeline.importing.existing import scan
from pipeline.importing.mapping import load_mapping
from pipeline.importing.media import download_images
from pipeline.importing.model import Feed, ImportFailed
from pipeline.importing.plan import Plan, make_plan
from pipeline.importing.source import is_url, read_input
from pipeline.importing.writer import write_all
from pipeline.progress import Progress

ORDER = 7


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", metavar="FILE-OR-URL", help="feed or WordPress export: a file or an http(s) URL"
    )
    add_config(parser)
    add_content(parser)
    parser.add_argument(
        "--map",
        metavar="FILE",
        help='TOML file mapping the old site\'s categories to goal-17 targets ([categories] "Name" = ["17.9"])',
    )
    parser.add_argument(
        "--lang", choices=("sv", "en"), help="language of every item (default: as the source says)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be written; write and download nothing"
    )
    parser.add_argument(
        "--download-images",
        action="store_true",
        help="copy images into CONTENT/media/ instead of linking to the old site",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per download (default: 30)"
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=100_000_000,
        metavar="N",
        help="largest input accepted (default: 100 MB)",
    )
    parser.add_argument(
        "--max-image-bytes",
        type=int,
        default=10_000_000,
        metavar="N",
        help="largest image downloaded (default: 10 MB)",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.timeout <= 0 or args.max_bytes <= 0 or args.max_image_bytes <= 0:
        raise CommandFailed("--timeout, --max-bytes and --max-image-bytes must be positive", code=2)
    content = Path(args.content)
    try:
        mapping = load_mapping(args.map)
        feed = read_feed(args.source, settings, args.timeout, args.max_bytes)
        existing = scan(content, settings)
        with Progress("reading items", len(feed.entries)) as bar:
            plan = make_plan(feed, settings, mapping, existing, lang=args.lang, progress=bar)
        media: dict[str, bytes] = {}
        failed: dict[str, str] = {}
        urls = [url for file in plan.files for url in file.images]
        if args.download_images and urls and not args.dry_run:
            with Progress("downloading images", len(set(urls))) as bar:
                downloads = download_images(urls, existing, args.timeout, args.max_image_bytes, progress=bar)
            plan = make_plan(feed, settings, mapping, existing, lang=args.lang, image_paths=downloads.paths)
            media, failed = downloads.files, downloads.failed
        files = {file.rel: file.text.encode("utf-8") for file in plan.files}
        files.update(media)
        if not args.dry_run and files:
            write_all(content, files)
    except ImportFailed as exc:
        raise CommandFailed(str(exc)) from None
    except Exception as exc:  # a bug or an input nobody foresaw: one line, never a traceback
        raise unexpected(exc, f"import of {args.source}") from None
    report(plan, feed, content, args, media, failed, len(set(urls)))
    return 0


def read_feed(source: str, settings: Settings, timeout: float, max_bytes: int) -> Feed:
    name = source if is_url(source) else str(Path(source))
    fetched = read_input(source, timeout, max_bytes)
    root = xmlparse.parse(fetched.data, name)
    kind = xmlparse.detect(root, name)
    if kind == "wxr":
        return wxr.read(root, name, settings.tz)
    if kind == "atom":
        return atom.read(root, name)
    return rss.read(root, name)


def report(
    plan: Plan,
    feed: Feed,
    content: Path,
    args: argparse.Namespace,
    media: dict[str, bytes],
    failed: dict[str, str],
    image_count: int,
) -> None:
    out = sys.stdout
    verb = "would write" if args.dry_run else "wrote"
    print(f"{feed.format}: {args.source} ({len(feed.entries) + len(feed.skipped)} items)", file=out)
    for file in plan.files:
        targets = ",".join(file.targets) or "-"
        state = "draft" if file.draft else file.lang
        print(f"{verb} {content / file.rel}  {file.date.date().isoformat()}  {state}  {targets}", file=out)
    for rel in media:
        print(f"{verb} {content / rel}", file=out)
    if args.dry_run and args.download_images and image_count:
        print(f"would download {image_count} image(s) into {content / 'media'}", file=out)
    for skipped in plan.skipped:
        print(f"skipped {args.source}:{skipped.line}: {skipped.title!r}: {skipped.reason}", file=out)
    human = plan.needs_human
    if human or plan.unknown_categories or failed:
        print("needs a human:", file=out)
    for file in human:
        for note in file.notes:
            print(f"  {content / file.rel}: {note}", file=out)
    for name, count in sorted(plan.unknown_categories.items()):
        where = f"add it to {args.map}" if args.map else "add it to a mapping file (--map)"
        print(f"  unknown category {name!r} ({count} item(s)): {where}", file=out)
    for url, why in failed.items():
        print(f"  image not downloaded, still linked to the old site: {url}: {why}", file=out)
    drafts = sum(1 for f in plan.files if f.draft)
    print(
        f"{len(plan.files)} {'to import' if args.dry_run else 'imported'} ({drafts} drafts), "
        f"{len(plan.skipped)} skipped, {len(human)} need a human"
        + (" (dry run: nothing written)" if args.dry_run else ""),
        file=out,
    )
