"""``Finished.still_valid`` with answers shared between updates gives the answers it gives alone."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.reading.model import Finished, LinkTargets

RELS = st.sampled_from(["a.md", "b.md", "c.md", "media/x.png", "media/y.pdf"])
URLS = st.none() | st.sampled_from(["https://s.example/updates/a/", "https://s.example/updates/b/"])
LOOKUPS = st.lists(st.tuples(RELS, URLS, st.booleans()), max_size=5).map(tuple)
TARGETS = st.builds(
    lambda pages, assets: LinkTargets(pages, {rel: Path("/nowhere") / rel for rel in assets}, {}),
    st.dictionaries(RELS, st.sampled_from(["https://s.example/updates/a/", "https://s.example/updates/b/"])),
    st.lists(RELS, unique=True),
)


@given(TARGETS, st.lists(LOOKUPS, min_size=1, max_size=30))
def test_shared_answers_are_the_answers_alone(targets, lookups):
    known: dict = {}
    for found in lookups:
        finished = Finished(None, found, None, ())  # type: ignore[arg-type]  # only lookups are read
        assert finished.still_valid(targets, known) == finished.still_valid(targets)
