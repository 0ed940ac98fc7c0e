"""The WebSub pending list as a store: the same answers from the SQLite file and the PostgreSQL table."""

from __future__ import annotations

import pytest

from pipeline.config.state import StateConfig
from pipeline.stores.backend import backend_for
from pipeline.stores.sqlite.websub_pending import PendingListDamaged

FEEDS = ["https://mal17.example.se/feeds/targets/17.9/rss.xml", "https://mal17.example.se/feeds/atom.xml"]


def test_add_accumulates_sorted_and_remove_forgets_only_what_was_pinged(state_backend) -> None:
    with state_backend.websub_pending() as store:
        assert store.pending() == []
        store.add(FEEDS[:1])
        store.add(FEEDS)  # a URL already pending stays once
        assert store.pending() == sorted(FEEDS)
        store.add([])
        store.remove([FEEDS[0], "https://mal17.example.se/never/added.xml"])
        assert store.pending() == [FEEDS[1]]
    with state_backend.websub_pending() as again:  # kept, not in memory
        assert again.pending() == [FEEDS[1]]
        again.remove(FEEDS)
        assert again.pending() == []


def test_a_damaged_file_is_named_on_reading_and_replaced_by_the_next_build(tmp_path) -> None:
    """Only SQLite keeps the list in a file."""
    backend = backend_for(StateConfig("sqlite", tmp_path / "state", "", "default"))
    path = tmp_path / "state" / "websub-pending.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json", "utf-8")
    with backend.websub_pending() as store:
        with pytest.raises(
            PendingListDamaged, match=r"websub-pending.json: unreadable .*delete it and run 'ping --all'"
        ):
            store.pending()
        store.add(FEEDS)  # a build never fails over it
        assert store.pending() == sorted(FEEDS)
