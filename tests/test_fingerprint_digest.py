"""``digest`` keeps its values: cached builds made by an older version must stay valid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.caching.fingerprint import digest

# Computed with digest() as it was before it hashed part by part (it joined the tagged parts).
VECTORS = [
    ((), "cae66941d9efbd404e4d88758ea67670"),
    (("",), "3299dc3d5be4287be154be13ee163ecd"),
    (("a", "bc"), "4cc803e4625475d0cff84537259774c4"),
    (("ab", "c"), "ebded40b7a540e82f6980449b3b7eab4"),
    ((None, "None"), "0e992a55d527da834f0a8ecceeef95eb"),
    (
        (b"bytes", "str", 17, 1.5, ("t", 1), None, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
        "9105c7b3469e7288cd3a08f6c18b3b78",
    ),
    (("å" * 5000, b"\x00" * 3, "x"), "d2f253ee7f0c71f338a641c7dbefba3d"),
]


@pytest.mark.parametrize(("parts", "expected"), VECTORS)
def test_digest_values_are_those_of_the_joined_version(parts: tuple[object, ...], expected: str) -> None:
    assert digest(*parts) == expected
