"""A deterministic synthetic corpus: N updates that look like the real ones to the pipeline.

Same ``(n, seed)`` → same bytes, so a figure measured today and one measured next month are about
the same input. Each update is 400–900 words of Swedish-like text with headings, lists, links
(external, to other updates as ``other-file.md`` and to files under ``media/``), a front-matter
image with alt text, sometimes a table, 1–3 goal-17 targets and dates spread over ten years.
Update ``i`` depends only on ``(seed, i, n)`` so ``edit_one``/``add_one`` change exactly one file.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import datetime, timedelta
from pathlib import Path

HOST = "bench.example"
FIRST_DATE = datetime(2016, 1, 4, 8, 0)
SPAN_DAYS = 3900  # about ten and a half years, ending before BENCH_NOW
BENCH_NOW = "2026-11-27T12:00:00+01:00"
TARGETS = [f"17.{i}" for i in range(1, 20)]
MEDIA = ("media/bild.png", "media/rapport.txt")


def _word_list(text: str) -> list[str]:
    return text.split()


WORDS = _word_list(
    "kommun region samarbete partnerskap utveckling kapacitet handel finansiering bistånd "
    "agenda hållbar global lokal nationell internationell förvaltning invånare skola vatten "
    "energi klimat digital teknik kunskap erfarenhet projekt program rapport uppföljning data "
    "statistik indikator mål delmål politik samstämmighet institution organisation förening "
    "näringsliv forskning universitet landsting styrelse nämnd budget resurs investering "
    "överenskommelse avtal utbyte besök delegation seminarium workshop nätverk plattform "
    "och att det som för med på av till är en ett de har inte om vi kan ska under genom "
    "vid mellan efter inom utan även också både eller samt därför dessutom tillsammans "
    "arbetar stärker bygger skapar utvecklar följer genomför leder bidrar delar planerar "
    "ny stor viktig gemensam långsiktig tydlig öppen bred svensk afrikansk europeisk"
)
HEADING_WORDS = _word_list(
    "Bakgrund Resultat Erfarenheter Nästa steg Finansiering Partnerskap Uppföljning Lärdomar "
    "Samarbetet Målgrupp Kapacitet Kunskapsutbyte Data Metod Slutsatser"
)
PLACES = _word_list("Malmö Kigali Göteborg Maputo Umeå Hanoi Luleå Gaborone Borås Kisumu Växjö Tartu")


def slug_of(i: int) -> str:
    return f"uppdatering-{i:05d}"


def _words(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(count)]


def _sentence(rng: random.Random, count: int) -> str:
    words = _words(rng, count)
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = rng.choice(PLACES)
    return " ".join(words) + rng.choice(".....!?")


def _paragraph(rng: random.Random, i: int, n: int, budget: int) -> tuple[str, int]:
    sentences: list[str] = []
    used = 0
    while used < budget:
        length = rng.randint(6, 16)
        sentence = _sentence(rng, length)
        roll = rng.random()
        if roll < 0.12 and n > 1:
            other = rng.randrange(n)
            if other != i:
                sentence += f" Läs också [{rng.choice(WORDS)} {rng.choice(WORDS)}]({slug_of(other)}.md)."
        elif roll < 0.18:
            sentence += f" Se [underlaget]({MEDIA[1]})."
        elif roll < 0.26:
            sentence += f" Mer på [{rng.choice(PLACES)}](https://www.example.org/{rng.choice(WORDS)}/{i})."
        elif roll < 0.32:
            sentence = sentence.replace(" ", " **", 1).replace(" ", "** ", 2).replace("** ", " ", 1)
        sentences.append(sentence)
        used += len(sentence.split())
    return " ".join(sentences), used


def _list(rng: random.Random) -> tuple[str, int]:
    marker = rng.choice(["-", "1."])
    items = [f"{marker} {_sentence(rng, rng.randint(3, 9))}" for _ in range(rng.randint(3, 6))]
    return "\n".join(items), sum(len(item.split()) for item in items)


def _table(rng: random.Random) -> tuple[str, int]:
    rows = ["| Kommun | År | Deltagare | Budget (kr) |", "|---|---:|---:|---:|"]
    for _ in range(rng.randint(3, 6)):
        rows.append(
            f"| {rng.choice(PLACES)} | {rng.randint(2016, 2026)} | {rng.randint(5, 400)} "
            f"| {rng.randint(10, 900) * 1000} |"
        )
    return "\n".join(rows), 4 * (len(rows) - 2)


def update_text(i: int, n: int, seed: int = 17) -> str:
    """The Markdown file (front matter + body) of update ``i`` in a corpus of ``n``."""
    rng = random.Random(f"{seed}:{i}")
    spacing = SPAN_DAYS * 24 * 60 // max(n, 1)  # minutes between consecutive updates
    date = FIRST_DATE + timedelta(minutes=spacing * i + rng.randint(0, max(spacing * 2 // 5, 1)))
    targets = sorted(rng.sample(TARGETS, rng.randint(1, 3)), key=lambda t: int(t.split(".")[1]))
    title = " ".join(_words(rng, rng.randint(4, 8))).capitalize() + f" i {rng.choice(PLACES)}"
    lang = "en" if rng.random() < 0.1 else "sv"
    tags = sorted(set(rng.sample(WORDS[:40], rng.randint(0, 3))))
    front = [
        "---",
        f'title: "{title}"',
        f"id: tag:{HOST},{date:%Y-%m-%d}:b{seed}-{i:05d}",
        f"date: {date:%Y-%m-%dT%H:%M}",
    ]
    if rng.random() < 0.2:
        front.append(f"updated: {date + timedelta(days=rng.randint(1, 60)):%Y-%m-%dT%H:%M}")
    front.append("targets: [" + ", ".join(f'"{t}"' for t in targets) + "]")
    if tags:
        front.append("tags: [" + ", ".join(tags) + "]")
    if lang == "en":
        front.append("lang: en")
    if rng.random() < 0.5:
        front.append(f"author: {rng.choice(PLACES)} kommun")
    if rng.random() < 0.7:
        front.append(f"image: {MEDIA[0]}")
        front.append(f'image_alt: "Deltagare vid ett möte i {rng.choice(PLACES)}"')
    front.append("---")

    target_words = rng.randint(400, 900)
    blocks: list[str] = []
    words = 0
    lead, used = _paragraph(rng, i, n, rng.randint(30, 60))
    blocks.append(lead)
    words += used
    table_done = rng.random() >= 0.25
    while words < target_words:
        heading = " ".join(rng.sample(HEADING_WORDS, rng.randint(1, 2)))
        blocks.append(f"## {heading}")
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.2:
                block, used = _list(rng)
            elif not table_done and roll < 0.3:
                block, used = _table(rng)
                table_done = True
            else:
                left = target_words - words
                block, used = _paragraph(rng, i, n, max(min(rng.randint(40, 110), left), 10))
            blocks.append(block)
            words += used
            if words >= target_words:
                break
    return "\n".join(front) + "\n\n" + "\n\n".join(blocks) + "\n"


def tiny_png(width: int = 32, height: int = 20) -> bytes:
    """A small valid PNG (a colour gradient) made without an imaging library."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 8 % 256, y * 12 % 256, 140)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def write_corpus(folder: str | Path, n: int, seed: int = 17) -> Path:
    """Write ``n`` updates and their media into ``folder`` (created; must be empty or absent)."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    (root / MEDIA[0]).write_bytes(tiny_png())
    (root / MEDIA[1]).write_text("Underlag till uppdateringarna (syntetiskt).\n", encoding="utf-8")
    for i in range(n):
        (root / f"{slug_of(i)}.md").write_text(update_text(i, n, seed), encoding="utf-8")
    return root


def edit_one(folder: str | Path, n: int, seed: int = 17) -> Path:
    """Change the body of one existing update (the middle one), as an author fixing a typo would."""
    path = Path(folder) / f"{slug_of(n // 2)}.md"
    text = path.read_text(encoding="utf-8")
    marker = "\n\n## "
    at = text.index(marker) if marker in text else len(text)
    path.write_text(
        text[:at] + "\n\nRättelse: en siffra i texten ovan var fel." + text[at:], encoding="utf-8"
    )
    return path


def add_one(folder: str | Path, n: int, seed: int = 17, index: int | None = None) -> Path:
    """Add update ``index`` (default ``n``), newer than all others: it tops every listing and feed."""
    i = n if index is None else index
    text = update_text(i, n, seed)  # spaced like its elders, so dated after all of them
    path = Path(folder) / f"{slug_of(i)}.md"
    path.write_text(text, encoding="utf-8")
    return path
