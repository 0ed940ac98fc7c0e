"""The subscriber list as CSV: reading an import (checked row by row) and writing an export.

Why apart from the store: the format — columns, delimiters from Swedish spreadsheets, consent
timestamps that must not be invented — is the same whatever database keeps the list; the store
only inserts the rows this module has already checked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.config.site import LANGUAGES
from pipeline.stores.subscribers import (
    CSV_FIELDS,
    SOURCES,
    STATUSES,
    ImportReport,
    Subscriber,
    SubscriberError,
    check_choice,
    email_key,
    normalize_email,
    parse_targets,
    parse_time,
    timestamp,
)


@dataclass(frozen=True)
class ImportRow:
    """One checked row, ready to insert (timestamps already normalised text)."""

    line: int
    email: str
    lang: str
    targets: tuple[str, ...]
    status: str
    page: str | None
    source: str
    created_at: str
    confirmed_at: str | None
    unsubscribed_at: str | None
    consent_at: str
    documented_consent: str | None  # the consent time the file gave, if any

    def detail(self) -> str:
        """What the consent log says about this import (the row keeps the documented consent)."""
        text = f"status {self.status}"
        if self.documented_consent:
            text += f"; consent {self.documented_consent} via {self.source}"
        return text


def read_import(
    text: str,
    *,
    now: datetime,
    status: str,
    source: str,
    page: str | None,
    is_suppressed: Callable[[str], bool],
) -> tuple[list[ImportRow], ImportReport]:
    """Check every row of an import; bad rows go into the report with their line number.

    Raises :class:`SubscriberError` for a header it cannot use (nothing is imported then).
    """
    report = ImportReport()
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise SubscriberError("line 1: the CSV needs a header row with an 'email' column")
    reader.fieldnames = header
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown:
        raise SubscriberError(
            f"line 1: unknown column(s) {', '.join(unknown)}; known: {', '.join(CSV_FIELDS)}"
        )
    at = timestamp(now)
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        start = reader.line_num  # the row's (last) physical line, as an editor shows it
        if None in record:
            report.rejected.append((start, "more fields than columns in the header"))
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue
        try:
            email = normalize_email(values.get("email", ""))
            lang = check_choice((values.get("lang") or "sv").lower(), LANGUAGES, "lang")
            targets = parse_targets(values.get("targets", ""))
            row_status = check_choice((values.get("status") or status).lower(), STATUSES, "status")
            row_page = values.get("consent_page") or page
            row_source = check_choice(
                (values.get("consent_source") or source).lower(), SOURCES, "consent_source"
            )
            given = {
                name: _csv_time(values.get(name, ""), name, now)
                for name in ("created_at", "confirmed_at", "unsubscribed_at", "consent_at")
            }
        except SubscriberError as exc:
            report.rejected.append((start, str(exc)))
            continue
        key = email_key(email)
        if key in seen:
            report.rejected.append((start, f"{email} is already on line {seen[key]}"))
            continue
        seen[key] = start
        if is_suppressed(email):
            report.rejected.append((start, f"{email} was erased at its owner's request; not re-imported"))
            continue
        rows.append(
            ImportRow(
                line=start,
                email=email,
                lang=lang,
                targets=targets,
                status=row_status,
                page=row_page,
                source=row_source,
                # What the file documents, else this import; a pending address has not
                # confirmed, an unsubscribed one may have.
                created_at=given["created_at"] or at,
                confirmed_at=None
                if row_status == "pending"
                else given["confirmed_at"] or (at if row_status == "active" else None),
                unsubscribed_at=(given["unsubscribed_at"] or at) if row_status == "unsubscribed" else None,
                consent_at=given["consent_at"] or at,
                documented_consent=given["consent_at"],
            )
        )
    return rows, report


def write_export(subscribers: Iterable[Subscriber]) -> str:
    """The list as CSV, importable again with :func:`read_import`."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for s in subscribers:
        writer.writerow(
            [
                s.email,
                s.lang,
                " ".join(s.targets),
                s.status,
                timestamp(s.created_at),
                timestamp(s.confirmed_at) if s.confirmed_at else "",
                timestamp(s.unsubscribed_at) if s.unsubscribed_at else "",
                s.consent_source,
                timestamp(s.consent_at),
                s.consent_page or "",
            ]
        )
    return out.getvalue()


def _csv_time(text: str, column: str, now: datetime) -> str | None:
    """An exported timestamp (ISO 8601 with an offset, e.g. ``2026-03-14T08:00:00Z``), normalized.

    Empty means unknown (the import's own time is used). A timestamp without an offset, one
    that does not parse, or one in the future is refused: consent records must not be invented.
    """
    try:
        moment = parse_time(text)
    except ValueError:
        raise SubscriberError(
            f"{column} is not a timestamp: {text!r} (write e.g. 2026-03-14T08:00:00Z)"
        ) from None
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise SubscriberError(f"{column} needs a time zone: {text!r} (write e.g. 2026-03-14T08:00:00Z)")
    if moment > now:
        raise SubscriberError(f"{column} is in the future: {text!r}")
    return timestamp(moment)


def _delimiter(text: str) -> str:
    """The separator of the header row: ',' or, as spreadsheets write CSV where the decimal mark
    is a comma (Excel in Swedish), ';' — or a tab. The one that yields an ``email`` column wins."""
    header = text.split("\n", 1)[0].lower()
    for candidate in (",", ";", "\t"):
        if "email" in (name.strip().strip('"') for name in header.split(candidate)):
            return candidate
    return ","


__all__ = ["ImportRow", "read_import", "write_export"]
