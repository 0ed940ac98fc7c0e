"""An update page's key: the context digest XOR the update's fingerprint (issue 16).

A page's key must change with its context and with its update, and two updates must never share
one; a fingerprint that is not a 32-digit lowercase hex digest is hashed as before.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.caching.fingerprint import digest, quick_digest
from pipeline.outputs.pages import page_keys

hex_digests = st.binary(min_size=16, max_size=16).map(bytes.hex)


@given(context=hex_digests, fingerprints=st.lists(hex_digests, min_size=2, max_size=50, unique=True))
@hsettings(max_examples=200, deadline=None)
def test_distinct_fingerprints_give_distinct_keys(context, fingerprints):
    key = page_keys(context)
    keys = [key(f) for f in fingerprints]
    assert len(set(keys)) == len(keys)
    assert all(len(k) == 32 and not k.strip("0123456789abcdef") for k in keys)


@given(first=hex_digests, second=hex_digests, fingerprint=hex_digests)
def test_the_key_changes_with_the_context(first, second, fingerprint):
    assert (page_keys(first)(fingerprint) == page_keys(second)(fingerprint)) == (first == second)


@given(fingerprint=st.text(max_size=40))
def test_other_fingerprints_are_hashed_with_the_context(fingerprint):
    context = digest("settings", "update page")
    if len(fingerprint) == 32 and not fingerprint.strip("0123456789abcdef"):
        return
    assert page_keys(context)(fingerprint) == quick_digest(context, fingerprint)


def test_look_alike_fingerprints_do_not_share_a_key():
    """``int(…, 16)`` would read these alike: only lowercase hex digits are XORed."""
    context = digest("settings", "update page")
    key = page_keys(context)
    alike = [
        "0x" + "0" * 29 + "1",
        "0" * 31 + "1",
        "+" + "0" * 30 + "1",
        "0" * 30 + "_1",
        "0" * 31 + "A",
        "0" * 31 + "a",
    ]
    assert len({key(f) for f in alike}) == len(alike)
