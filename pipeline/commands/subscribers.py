"""``subscribers``: manage newsletter subscribers (add, remove, list, import, export).

Manage the newsletter's subscriber list in the state database.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path

from pipeline.commands._options import (
    CommandFailed,
    add_config,
    add_now,
    file_in_the_way,
    not_a_folder,
    now_from,
    settings_from,
)
from pipeline.config.site import Settings, SettingsError
from pipeline.stores.backend import open_backend
from pipeline.stores.protocols import SubscriberStore
from pipeline.stores.subscribers import STATUSES, Subscriber, SubscriberError

ORDER = 40


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add an address (active at once; --pending for double opt-in)")
    add.add_argument("address")
    add.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language of the newsletter (default sv)"
    )
    add.add_argument("--targets", default="", help="only updates with these targets, e.g. '17.9 17.17'")
    add.add_argument("--pending", action="store_true", help="add as pending (not mailed until confirmed)")
    add.add_argument("--resubscribe", action="store_true", help="reactivate an address that unsubscribed")
    add.add_argument("--page", help="where consent was given (URL or note), kept in the consent record")

    remove = actions.add_parser("remove", help="unsubscribe an address (--erase: delete all its data)")
    remove.add_argument("address")
    remove.add_argument("--erase", action="store_true", help="delete the subscriber, keep only a hash")

    listing = actions.add_parser("list", help="list subscribers")
    listing.add_argument("--status", choices=STATUSES, help="only this status")

    importing = actions.add_parser("import", help="import addresses from a CSV file with an 'email' column")
    importing.add_argument("file", metavar="FILE.csv")
    importing.add_argument("--pending", action="store_true", help="import as pending instead of active")
    importing.add_argument("--page", help="where these people gave consent, kept in each consent record")

    exporting = actions.add_parser("export", help="write every subscriber to a CSV file ('-' for stdout)")
    exporting.add_argument("file", metavar="FILE.csv")

    consent = actions.add_parser(
        "consent",
        help="print everything kept about one address, with its consent history, as JSON (GDPR Art. 7, 15)",
    )
    consent.add_argument("address")

    for sub in (add, remove, listing, importing, exporting, consent):
        add_config(sub)
        add_now(sub)
        sub.set_defaults(func=run)


def open_store(settings: Settings) -> AbstractContextManager[SubscriberStore]:
    """The configured backend's subscriber list (its schema checked once, at opening)."""
    try:
        settings.newsletter  # noqa: B018  (validated here: a bad [newsletter] is one clear error)
        backend = open_backend(settings)
    except SettingsError as exc:
        raise CommandFailed("invalid settings", details=exc.problems) from None
    return backend.subscribers()


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = now_from(args, settings)
    with open_store(settings) as store:
        try:
            return ACTIONS[args.action](args, store, now)
        except SubscriberError as exc:
            raise CommandFailed(str(exc)) from None


def _add(args, store: SubscriberStore, now) -> int:
    subscriber, created = store.add(
        args.address,
        now=now,
        lang=args.lang,
        targets=args.targets,
        status="pending" if args.pending else "active",
        source="cli",
        page=args.page,
        resubscribe=args.resubscribe,
    )
    if created:
        print(f"added {subscriber.email} ({subscriber.status}, {subscriber.lang})")
    elif subscriber.status == "unsubscribed":
        raise CommandFailed(
            f"{subscriber.email} unsubscribed on {subscriber.unsubscribed_at:%Y-%m-%d}; "
            "add --resubscribe if they asked to come back"
        )
    else:
        print(f"{subscriber.email} is already on the list ({subscriber.status}); nothing changed")
    return 0


def _known(store: SubscriberStore, address: str) -> Subscriber:
    subscriber = store.find(address)
    if subscriber is None:
        raise CommandFailed(f"{address} is not on the list")
    return subscriber


def _remove(args, store: SubscriberStore, now) -> int:
    subscriber = _known(store, args.address)
    if args.erase:
        store.erase(subscriber.uid, now=now)
        print(f"erased {subscriber.email} (only a hash is kept, so it is not imported again)")
    else:
        store.unsubscribe(subscriber.uid, now=now, source="cli")
        print(f"unsubscribed {subscriber.email}")
    return 0


def _list(args, store: SubscriberStore, now) -> int:
    for s in store.list(args.status):
        targets = " ".join(s.targets) or "all"
        print(f"{s.email}\t{s.status}\t{s.lang}\t{targets}\t{s.updated_at:%Y-%m-%dT%H:%M:%SZ}")
    counts = store.counts()
    print(", ".join(f"{n} {status}" for status, n in counts.items()), file=sys.stderr)
    return 0


def _import(args, store: SubscriberStore, now) -> int:
    path = Path(args.file)
    if path.exists() and not path.is_dir() and not path.is_file():
        raise CommandFailed(f"{path} is not a regular file (a device or a pipe?); nothing imported")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandFailed(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CommandFailed(f"{path} is a folder; give the CSV file to import") from None
    except OSError as exc:
        raise CommandFailed(f"{path}: cannot read it: {exc.strerror or exc}; nothing imported") from None
    except UnicodeDecodeError as exc:
        raise CommandFailed(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    try:
        report = store.import_csv(
            text, now=now, status="pending" if args.pending else "active", page=args.page
        )
    except SubscriberError as exc:
        raise CommandFailed(f"{path}: {exc}; nothing imported") from None
    for line, reason in report.rejected:
        print(f"{path}:{line}: rejected: {reason}", file=sys.stderr)
    print(
        f"imported {report.added} subscriber(s) from {path}; {report.already_known} already on the list; "
        f"{len(report.rejected)} row(s) rejected"
    )
    return 1 if report.rejected else 0


def _export(args, store: SubscriberStore, now) -> int:
    text = store.export_csv()
    if args.file == "-":
        sys.stdout.write(text)
    else:
        _write_export(Path(args.file), text)
        print(f"exported {sum(store.counts().values())} subscriber(s) to {args.file}")
    return 0


def _write_export(path: Path, text: str) -> None:
    """Write the CSV file, with a message that says what to change when the path is wrong."""
    if path.is_dir():
        raise CommandFailed(f"{path} is a folder; give a file name such as {path / 'subscribers.csv'}")
    blocker = file_in_the_way(path)
    if blocker is not None:
        raise CommandFailed(f"{path}: {not_a_folder(blocker)}; nothing exported")
    if not path.parent.is_dir():
        raise CommandFailed(f"{path}: folder {path.parent} does not exist; nothing exported")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"{path}: cannot write it: {exc.strerror or exc}") from None


def _consent(args, store: SubscriberStore, now) -> int:
    subscriber = _known(store, args.address)
    print(json.dumps(store.export_record(subscriber.uid), ensure_ascii=False, indent=2, sort_keys=True))
    return 0


ACTIONS = {
    "add": _add,
    "remove": _remove,
    "list": _list,
    "import": _import,
    "export": _export,
    "consent": _consent,
}
