"""Which updates each language, group and target feed holds: the newest few now, all on demand.

A build describes every feed on every run but makes a document only when its key changed, and a
language, group or target document shows only its newest ``scope_feed_items`` updates. So the
scan that sorts the updates into scopes stops as soon as every scope holds that many (or all it
will ever hold: the counts are taken first, at C speed, over the distinct tuples of targets);
the complete lists are made only when something asks for them (:attr:`FeedScope.updates`).
At 10,000 updates the full scan was ~25 ms of every edit build; the newest few need a few
hundred updates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from operator import attrgetter
from typing import overload

from pipeline.config.taxonomy import Taxonomy
from pipeline.reading.model import Update

# Updates scanned between two checks of whether every scope holds its newest few.
_STRIDE = 64

Lists = tuple[dict[str, list[Update]], dict[str, list[Update]], dict[str, list[Update]]]


class Members:
    """The scopes' updates, newest first, from ``ordered`` (every update, site-wide order)."""

    def __init__(self, ordered: Sequence[Update], taxonomy: Taxonomy) -> None:
        self.ordered = ordered
        self.target_ids = [t.id for t in taxonomy.targets]
        self.group_ids = [g.id for g in taxonomy.groups]
        self._groups_of = {t: [g.id for g in taxonomy.groups if t in g.targets] for t in self.target_ids}
        self._groups_of_targets: dict[tuple[str, ...], tuple[str, ...]] = {}

    def groups(self, targets: Sequence[str]) -> tuple[str, ...]:
        """The groups of an update's targets, each once, in the order the old loop met them."""
        key = targets if type(targets) is tuple else tuple(targets)
        found = self._groups_of_targets.get(key)
        if found is None:
            groups_of = self._groups_of
            found = self._groups_of_targets[key] = tuple(dict.fromkeys(g for t in key for g in groups_of[t]))
        return found

    @cached_property
    def totals(self) -> tuple[Counter[str], dict[str, int], dict[str, int]]:
        """How many updates each language, target and group holds (a target listed twice in one
        update counts twice, as it is listed twice in that target's feed)."""
        languages = Counter(map(attrgetter("lang"), self.ordered))
        try:
            tuples = Counter(map(attrgetter("targets"), self.ordered))
        except TypeError:  # a list of targets (made in a test): not hashable
            tuples = Counter(tuple(u.targets) for u in self.ordered)
        targets = dict.fromkeys(self.target_ids, 0)
        groups = dict.fromkeys(self.group_ids, 0)
        for key, count in tuples.items():
            for target_id in key:
                targets[target_id] += count  # an unknown target fails here, as in the scan
            for group_id in self.groups(key):
                groups[group_id] += count
        return languages, targets, groups

    def newest(self, limit: int, languages: bool) -> tuple[Lists, bool]:
        """Lists holding at least each scope's newest ``limit`` updates (or all it has), and
        whether they are complete (the scan reached the oldest update). ``languages``: whether
        language scopes exist (more than one language)."""
        if limit < 0:
            return self.everything, True
        counts, targets, groups = self.totals
        lists = _empty(self)
        by_language, by_target, by_group = lists
        if languages:  # every language gets its list now, so the scan appends to these
            for code in counts:
                by_language[code] = []
        wanted = [(by_target[t], min(limit, targets[t])) for t in self.target_ids]
        wanted += [(by_group[g], min(limit, groups[g])) for g in self.group_ids]
        if languages:
            wanted += [(by_language[code], min(limit, count)) for code, count in counts.items()]
        ordered = self.ordered
        for start in range(0, len(ordered), _STRIDE):
            if all(len(found) >= need for found, need in wanted):
                return lists, False
            self._scan(ordered[start : start + _STRIDE], lists)
        return lists, True

    @cached_property
    def everything(self) -> Lists:
        """Every scope's complete list."""
        lists = _empty(self)
        self._scan(self.ordered, lists)
        return lists

    def _scan(self, updates: Sequence[Update], lists: Lists) -> None:
        """Append each of ``updates`` to its language's, targets' and groups' lists."""
        by_language, by_target, by_group = lists
        groups = self.groups
        for update in updates:
            by_language.setdefault(update.lang, []).append(update)
            for target_id in update.targets:
                by_target[target_id].append(update)
            for group_id in groups(update.targets):
                by_group[group_id].append(update)


def _empty(members: Members) -> Lists:
    return {}, {t: [] for t in members.target_ids}, {g: [] for g in members.group_ids}


class ScopeUpdates(Sequence[Update]):
    """A scope's updates, newest first: the newest few at hand, the rest made on first use.

    ``newest`` is a prefix of the complete list (both come from scans in the site-wide order),
    ``total`` its length, ``every()`` makes it. Its length and the slices within ``newest``
    (what a feed document shows) need no more; anything else asks for the complete list.
    """

    __slots__ = ("_newest", "_total", "_every", "_all")

    def __init__(self, newest: list[Update], total: int, every: Callable[[], list[Update]]) -> None:
        self._newest = newest
        self._total = total
        self._every = every
        self._all: tuple[Update, ...] | None = None

    def _complete(self) -> tuple[Update, ...]:
        if self._all is None:
            self._all = tuple(self._every())
        return self._all

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> Update: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Update, ...]: ...

    def __getitem__(self, index: int | slice) -> Update | tuple[Update, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._total)
            if step == 1 and stop <= len(self._newest):
                return tuple(self._newest[start:stop])
        elif 0 <= index < len(self._newest):
            return self._newest[index]
        return self._complete()[index]

    def __iter__(self) -> Iterator[Update]:
        return iter(self._complete())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScopeUpdates | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(self._complete())
