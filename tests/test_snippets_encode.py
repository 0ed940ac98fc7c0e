"""Snippet files laid out without the pure-Python encoder: the bytes ``json.dumps`` gives."""

from __future__ import annotations

import enum
import json
import math
from collections import OrderedDict

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from markupsafe import Markup

from pipeline.outputs.snippets.documents import encode


class Level(enum.IntEnum):  # an int whose repr is not its JSON text
    LOW = 1


def _reference(document) -> bytes:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "))
    return (text + "\n").encode("utf-8")


TEXT = st.text(
    st.sampled_from(
        ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "é", "–", "🎉", "a", " ", "<", "/"]
    ),
    max_size=12,
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
    | TEXT.map(Markup)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(TEXT, inner, max_size=4)
        | st.dictionaries(TEXT, inner, max_size=3).map(OrderedDict)
    ),
    max_leaves=25,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(VALUES)
def test_any_document_gives_the_bytes_of_json_dumps(document):
    assert encode(document) == _reference(document)


def test_the_tricky_cases_by_hand():
    cases = [
        {},
        [],
        {"a": {}, "b": [], "c": [[]], "d": [{}], "e": ()},
        {"b": 1, "a": True, "c": None, "d": False, "e": 1.5, "f": -0.0, "g": 10**30},
        {"x": [math.nan, math.inf, -math.inf, 1e300, 5e-324]},
        {"z": "ä", "ä": "z", "Z": "", "": "\u2028"},
        [1, [2, [3, [4, {"k": [5]}]]]],
        "alone",
        7,
        None,
        {"m": Markup("<b>"), Markup("key"): "v"},
        {"level": Level.LOW, "levels": [Level.LOW]},
    ]
    for document in cases:
        assert encode(document) == _reference(document), document


def test_keys_that_are_not_strings_are_laid_out_as_json_dumps_does():
    for document in ({1: "a", 2: "b"}, {"a": {None: 1}}, [{True: 1, False: 2}], {"a": [{1.5: 2}]}):
        assert encode(document) == _reference(document), document
