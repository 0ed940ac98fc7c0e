"""A structure-dense corpus: what the bench corpus is not, to see what it hides.

``bench.corpus`` writes long paragraphs in plain Latin-1 Swedish (37 lines and 15 blocks per
update). Real updates are denser in structure (lists, nested lists, tables, fenced code, rules,
emphasis) and hold characters beyond Latin-1 (the en dash, typographic quotes, names such as
Gdańsk), which make every Python string of a page two bytes per character. This writes ``n``
updates in year folders, each ten of the 23 realistic bodies in ``tests/data/markdown_wider``
(≈ 4.9 KB, 190 lines, 68 blocks), with links between updates, images and varied front matter.

    python -m bench.dense_corpus OUT N
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from bench.corpus import tiny_png

BODIES = Path(__file__).resolve().parent.parent / "tests" / "data" / "markdown_wider"
FIRST_YEAR, YEARS = 2019, 8


def write_dense_corpus(root: Path, n: int, seed: int = 5) -> Path:
    """Write the corpus under ``root``; same ``(n, seed)``, same bytes."""
    bodies = [path.read_text(encoding="utf-8") for path in sorted(BODIES.glob("*.md"))]
    rng = random.Random(seed)
    places = [(FIRST_YEAR + i * YEARS // n, f"nyhet-{i:05d}") for i in range(n)]
    for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
        (root / str(year) / "media").mkdir(parents=True, exist_ok=True)
        (root / str(year) / "media" / "bild.png").write_bytes(tiny_png())
    for i, (year, slug) in enumerate(places):
        body = "\n\n".join(bodies[(i * k + k) % len(bodies)] for k in (1, 3, 5, 7, 11, 13, 17, 19, 2, 4))

        def other(_match: re.Match[str]) -> str:
            their_year, their_slug = places[rng.randrange(n)]
            return f"](../{their_year}/{their_slug}.md)"

        body = re.sub(r"\]\(\.\./[^)]*\)", other, body)
        body = re.sub(r"\]\(media/[^) ]*", "](media/bild.png", body)
        month, day = 1 + i % 12, 1 + i % 28
        targets = ", ".join(f'"17.{t}"' for t in sorted(rng.sample(range(1, 20), rng.randint(1, 3))))
        lines = [
            "---",
            f'title: "Nyhet {i}: {("Partnerskap", "Samarbete", "Rapport")[i % 3]} i {("Växjö", "Kisumu", "Gdańsk")[i % 3]}"',
            f'id: "tag:mal17.example.se,{year}-{month:02d}-{day:02d}:h{i:05d}"',
            f"date: {year}-{month:02d}-{day:02d}T{8 + i % 9:02d}:{i % 60:02d}",
            f"targets: [{targets}]",
            f"tags: [samarbete, {('kommun', 'region', 'ngo')[i % 3]}]",
        ]
        if i % 4 == 0:
            lines.append("author: Redaktionen")
        if i % 5 == 0:
            lines += ["image: media/bild.png", 'image_alt: "Bild från besöket"']
        if i % 6 == 0:
            lines.append('summary: "En kort sammanfattning av nyheten."')
        if i % 10 == 0:
            lines.append("lang: en")
        lines.append("---")
        (root / str(year) / f"{slug}.md").write_text("\n".join(lines) + "\n\n" + body, encoding="utf-8")
    return root


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: python -m bench.dense_corpus OUT N")
    write_dense_corpus(Path(sys.argv[1]), int(sys.argv[2]))
