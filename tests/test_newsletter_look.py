"""How an issue reads: subject, sections, one link per update, brand, address, preheader, headers.

Real parts only: editions rendered by mjml from real content, parsed with lxml and html5lib,
messages parsed by the email package, and — when Debian's tools are installed — read by w3m and
scored by SpamAssassin exactly as a reader's client or a receiving server would.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
import lxml.html
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.config.mail import newsletter_config
from pipeline.config.site import load_settings
from pipeline.delivery.issues import IssueStore
from pipeline.delivery.message import MessageTemplate
from pipeline.outputs.newsletter.render import PREHEADER_STYLE, group_of, render_edition
from pipeline.outputs.newsletter.subject import MAX_LENGTH, shorten, subject_line
from pipeline.reading.content import read_content
from tests.conftest import NOW
from tests.message_reference import build_slow
from tests.newsletter_helpers import write_settings
from tests.state_db import connect

SECRET = b"look-test-secret-0123456789abcdef"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ORDER = ("capacity-building", "partnerships", "finance", "policy-coherence", "data", "trade", "technology")


def edition_of(tmp_path: Path, content_dir: Path, extra: str = "", lang: str = "sv", personal: bool = True):
    settings = load_settings(write_settings(tmp_path, extra))
    config = newsletter_config(settings)
    with connect(config) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    return render_edition(issue, lang, settings, config, personal=personal), settings, config


def example_issue(write_update) -> None:
    """The shapes the issue complained about: a long Swedish title, an English one with a colon
    newer than it, and a governance article whose first target is a technology one."""
    write_update(
        "finansiering",
        title='"Finansieringsdelmålen i mål 17 – vad betyder de för kommuner och regioner?"',
        date="2026-11-20T09:00",
        targets=["17.1", "17.2", "17.3", "17.4", "17.5", "17.13"],
        summary='"Fem delmål om finansiering."',
    )
    write_update(
        "governance",
        title='"SKL International: Swedish know-how for good local governance"',
        date="2026-11-25T09:00",
        targets=["17.6", "17.9", "17.16"],
        lang="en",
        summary='"Projects that support democratic local governance."',
    )
    write_update(
        "handel",
        title='"Rättvis handel börjar i kommunens inköp"',
        date="2026-11-10T09:00",
        targets=["17.10", "17.11", "17.12"],
    )


# -- subject ------------------------------------------------------------------------------------


def test_subject_is_the_weeks_news_headed_by_an_update_in_the_editions_language(
    tmp_path, content_dir, write_update
) -> None:
    example_issue(write_update)
    sv, _, _ = edition_of(tmp_path, content_dir)
    # the English update is newer, but the Swedish edition opens with the newest Swedish one
    assert sv.subject == "Mål 17 – nyheter vecka 48: Finansieringsdelmålen i mål 17 – vad betyder de…"
    assert len(sv.subject) <= MAX_LENGTH
    en, _, _ = edition_of(tmp_path, content_dir, lang="en")
    # the English title's own colon is not doubled: its main clause is the headline
    assert en.subject == "Goal 17 – news week 48: SKL International"


def test_subject_template_from_site_toml_and_its_errors(tmp_path, content_dir, write_update, capsys) -> None:
    example_issue(write_update)
    edition, _, _ = edition_of(
        tmp_path, content_dir, '[newsletter]\nsubject_sv = "Nr {number} ({count} nyheter) – {title}"\n'
    )
    assert edition.subject.startswith("Nr 1 (3 nyheter) – Finansieringsdelmålen")
    (tmp_path / "bad").mkdir()
    bad = write_settings(tmp_path / "bad", '[newsletter]\nsubject_sv = "Vecka {vecka}"\n')
    code = main(
        [
            "newsletter",
            "preview",
            "--config",
            str(bad),
            "--content",
            str(content_dir),
            "--now",
            "2026-11-27T12:00",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "subject_sv: unknown field {vecka}" in err and "Traceback" not in err


words = st.text(alphabet="abcdefåäöghijklmnopqrstuvwxyz", min_size=1, max_size=14)


@hsettings(max_examples=200, deadline=None)
@given(
    title=st.lists(words, min_size=1, max_size=30).map(" ".join), room=st.integers(min_value=12, max_value=80)
)
def test_shortening_never_cuts_a_word(title: str, room: int) -> None:
    short = shorten(title, room)
    original = title.split()
    if short == title:
        return
    assert short.endswith("…")
    kept = short[:-1].split()
    assert kept == original[: len(kept)]  # whole words, in order, nothing cut inside one
    assert len(short) <= room or len(kept) == 1  # only a single over-long first word may overrun


@hsettings(max_examples=100, deadline=None)
@given(title=st.lists(words, min_size=1, max_size=40).map(" ".join))
def test_default_subject_fits_an_inbox_line(title: str) -> None:
    line = subject_line(
        "Mål 17 – nyheter vecka {week}: {title}",
        lead=title,
        number=3,
        count=4,
        created_at=datetime(2026, 12, 1, tzinfo=STOCKHOLM),
        tz=STOCKHOLM,
        empty_title="Inga nyheter",
    )
    assert line.startswith("Mål 17 – nyheter vecka 49: ")
    assert len(line) <= MAX_LENGTH or " " not in title


# -- grouping -------------------------------------------------------------------------------


def test_an_update_goes_to_the_group_with_most_of_its_targets() -> None:
    # 17.6 technology, 17.9 capacity building, 17.16 partnerships: a tie, broken by the order
    assert group_of(("17.6", "17.9", "17.16"), ORDER) == "capacity-building"
    assert group_of(("17.6", "17.9", "17.16"), ("technology", *ORDER[:-1])) == "technology"
    # most targets beats the order: two finance targets, one capacity-building one
    assert group_of(("17.9", "17.1", "17.2"), ORDER) == "finance"
    assert group_of((), ORDER) == ""


def test_sections_follow_group_order_and_no_governance_under_technology(
    tmp_path, content_dir, write_update
) -> None:
    example_issue(write_update)
    edition, _, _ = edition_of(tmp_path, content_dir)
    doc = lxml.html.fromstring(edition.html)
    sections = [h.text_content() for h in doc.xpath("//h2")]
    assert sections == ["Kapacitetsuppbyggnad", "Finansiering", "Handel"]
    assert "Teknik" not in sections
    custom, _, _ = edition_of(tmp_path, content_dir, '[newsletter]\ngroup_order = ["trade", "finance"]\n')
    assert [h.text_content() for h in lxml.html.fromstring(custom.html).xpath("//h2")][:2] == [
        "Handel",
        "Finansiering",
    ]


def test_unknown_group_in_group_order_is_a_settings_error(
    tmp_path, content_dir, write_update, capsys
) -> None:
    write_update("one", date="2026-11-20T09:00", targets=["17.9"])
    config = write_settings(tmp_path, '[newsletter]\ngroup_order = ["finance", "teknik"]\n')
    code = main(
        [
            "newsletter",
            "preview",
            "--config",
            str(config),
            "--content",
            str(content_dir),
            "--now",
            "2026-11-27T12:00",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "group_order" in err and "Traceback" not in err


# -- the body -------------------------------------------------------------------------------


def test_one_call_to_action_per_update_and_labels_in_the_editions_language(
    tmp_path, content_dir, write_update
) -> None:
    example_issue(write_update)
    edition, settings, _ = edition_of(tmp_path, content_dir)
    doc = lxml.html.fromstring(edition.html)
    assert "Läs mer" not in edition.html and "Read more" not in edition.html
    for item in edition.items:
        links = doc.xpath(f'//a[@href="{item.url}"]')
        assert len(links) == 1 and links[0].text_content() == item.title
        assert links[0].getparent().tag == "h3"
    english = doc.xpath('//a[@href="https://mal17.example.se/updates/governance/"]')[0]
    heading = english.getparent()
    assert heading.get("lang") == "en"
    meta = heading.getnext()
    assert meta.get("lang") is None  # the labels are Swedish text, marked as the edition's
    assert meta.text_content() == "25 november 2026 · Delmål 17.6, 17.9 och 17.16"
    assert meta.getnext().get("lang") == "en"  # the summary is the update's own English


def test_brand_header_links_to_the_site_and_footer_has_the_postal_address(
    tmp_path, content_dir, write_update
) -> None:
    write_update("one", date="2026-11-20T09:00", targets=["17.9"])
    extra = '[newsletter]\npostal_address = "SKR, 118 82  Stockholm"\n'
    edition, settings, _ = edition_of(tmp_path, content_dir, extra)
    doc = lxml.html.fromstring(edition.html)
    first_link = doc.xpath("//body//a")[0]
    assert first_link.get("href") == settings.url("") and first_link.text_content() == settings.title
    assert "SKR, 118 82 Stockholm" in doc.xpath("//body")[0].text_content()
    assert edition.text.rstrip().endswith("SKR, 118 82 Stockholm")
    with_logo, _, _ = edition_of(tmp_path, content_dir, extra + 'logo = "media/logo.png"\n')
    logo_link = lxml.html.fromstring(with_logo.html).xpath("//img/ancestor::a")[0]
    assert logo_link.get("href") == settings.url("")


def test_web_version_offers_to_subscribe(tmp_path, content_dir, write_update) -> None:
    write_update("one", date="2026-11-20T09:00", targets=["17.9"])
    edition, settings, _ = edition_of(tmp_path, content_dir, personal=False)
    doc = lxml.html.fromstring(edition.html)
    assert (
        doc.xpath('//a[@href="https://mal17.example.se/subscribe"]')[0].text_content()
        == "Prenumerera på nyhetsbrevet"
    )
    assert "https://mal17.example.se/subscribe" in edition.text


# -- preheader --------------------------------------------------------------------------------


def test_preheader_is_hidden_without_colours_and_after_the_brand(tmp_path, content_dir, write_update) -> None:
    example_issue(write_update)
    edition, settings, _ = edition_of(tmp_path, content_dir)
    tree = html5lib.parse(edition.html, treebuilder="lxml", namespaceHTMLElements=False)
    body = tree.find(".//body")
    hidden = [el for el in body.iter() if "display:none" in (el.get("style") or "").replace(" ", "")]
    # MJML's own preview block had color:#ffffff on the grey body: SpamAssassin's low-contrast rule
    assert len(hidden) == 1 and hidden[0].get("style") == PREHEADER_STYLE
    assert "color" not in PREHEADER_STYLE and "mso-hide:all" in PREHEADER_STYLE
    assert hidden[0].text.startswith(edition.preheader)
    assert (
        edition.preheader
        == "3 nyheter: SKL International: Swedish know-how for good local governance · Rättvis handel börjar i kommunens inköp"
    )
    texts = [t.strip() for t in body.itertext() if t.strip()]
    assert texts[0] == settings.title and texts[1].startswith(edition.preheader)


TEXT_READERS = {
    "w3m": ["w3m", "-dump", "-T", "text/html", "-I", "UTF-8", "-O", "UTF-8", "-cols", "80"],
    "lynx": ["lynx", "-dump", "-force_html", "-nolist", "-assume_charset=utf-8", "-display_charset=utf-8"],
}


@pytest.mark.parametrize("reader", sorted(TEXT_READERS))
def test_text_mode_reader_starts_with_the_site_not_the_preheader(
    tmp_path, content_dir, write_update, reader: str
) -> None:
    if shutil.which(reader) is None:
        pytest.skip(f"Debian's {reader} is not installed")
    example_issue(write_update)
    edition, settings, _ = edition_of(tmp_path, content_dir)
    page = tmp_path / "mail.html"
    page.write_text(edition.html, encoding="utf-8")
    dump = subprocess.run(
        [*TEXT_READERS[reader], str(page)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    lines = [line.strip() for line in dump.splitlines() if line.strip()]
    assert lines[0] == settings.title
    assert "Läs mer" not in dump
    # the padding after the preheader is blank on a terminal (no combining marks drawn as junk)
    assert "\u034f" not in dump


# -- headers and spam score -------------------------------------------------------------------------


def test_feedback_id_header_on_both_paths(tmp_path, content_dir, write_update) -> None:
    write_update("one", date="2026-11-20T09:00", targets=["17.9"])
    edition, settings, config = edition_of(tmp_path, content_dir)
    fast = (
        MessageTemplate(edition, settings, config, SECRET, NOW)
        .personalise("abcdefghijkl", "a@example.se")
        .data
    )
    slow = build_slow(edition, settings, config, SECRET, NOW, "abcdefghijkl", "a@example.se")
    for data in (fast, slow):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert msg["Feedback-ID"] == f"issue1:sv:newsletter:{config.list_id}"
        assert msg["Subject"] == edition.subject


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="Debian's spamassassin is not installed")
def test_spamassassin_finds_nothing_in_the_body(tmp_path, content_dir, write_update) -> None:
    example_issue(write_update)
    edition, settings, config = edition_of(
        tmp_path, content_dir, '[newsletter]\npostal_address = "SKR, 118 82 Stockholm"\n'
    )
    data = (
        MessageTemplate(edition, settings, config, SECRET, NOW)
        .personalise("abcdefghijkl", "a@example.se")
        .data
    )
    report = subprocess.run(
        ["spamassassin", "-t", "--cf=dns_available no", "--cf=use_bayes 0", "--cf=skip_rbl_checks 1"],
        input=data,
        capture_output=True,
        timeout=300,
        check=True,
    ).stdout.decode("utf-8", "replace")
    status = re.search(r"X-Spam-Status: (\w+), score=(-?[\d.]+).*?tests=([\s\S]*?)autolearn", report)
    assert status, report[-2000:]
    tests = set(re.findall(r"[A-Z][A-Z0-9_]+", status.group(3)))
    assert "HTML_FONT_LOW_CONTRAST" not in tests
    # only informational rules (no Received headers on a message that was never relayed)
    assert tests <= {"HTML_MESSAGE", "NO_RECEIVED", "NO_RELAYS"}, tests
    assert float(status.group(2)) <= 0.0


def test_an_empty_issue_says_so_without_an_empty_link_list(tmp_path, content_dir) -> None:
    settings = load_settings(write_settings(tmp_path))
    config = newsletter_config(settings)
    with connect(config) as conn:
        issue = IssueStore(conn).plan([], NOW)
    edition = render_edition(issue, "sv", settings, config)
    assert edition.subject == "Mål 17 – nyheter vecka 48: Inga nya nyheter den här gången"
    assert "Inga nya nyheter den här gången." in edition.text and "Länkar:" not in edition.text
    assert edition.preheader == "Inga nya nyheter den här gången."


@hsettings(max_examples=200, deadline=None)
@given(
    targets=st.lists(st.sampled_from([f"17.{n}" for n in range(1, 20)]), min_size=1, max_size=8, unique=True),
    order=st.permutations(ORDER),
)
def test_the_chosen_group_holds_most_targets_and_wins_ties_by_order(targets, order) -> None:
    from pipeline.config.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    counts = {g: sum(taxonomy.group_of(t).id == g for t in targets) for g in ORDER}
    chosen = group_of(tuple(targets), tuple(order))
    assert counts[chosen] == max(counts.values())
    assert all(counts[g] < counts[chosen] for g in order[: order.index(chosen)])
