"""Publish's sorting of files into kept and to-make, and the manifest's record check, give what
the code they replaced gave (issue 16): kept here as the reference, run on generated folders in
which files are missing, changed by hand (size or mtime), made bytes or deferred with the
recorded key or another one, and on generated manifest values."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pipeline.caching.deferred import Deferred
from pipeline.publishing import manifest, publish
from pipeline.publishing.output_folder import old_files

FEW = hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PATHS = ["index.html", "a/b.html", "a/c/d.xml", "feeds/rss.xml", "x y/ü.json"]


def reference(wanted, old, known):
    """The loop as it was: every path sorted, each kept file stat'ed by its absolute path."""
    keep, entries, todo = [], {}, []
    for rel in sorted(wanted):
        item, old_path = wanted[rel], old.get(rel)
        key = item.key if isinstance(item, Deferred) else None
        record = known.get(rel)
        if key is not None and old_path is not None and record and record[0] == key:
            try:
                st = os.stat(old_path)
            except OSError:
                st = None
            if st is not None and st.st_size == record[1] and st.st_mtime_ns == record[2]:
                keep.append(rel)
                entries[rel] = record
                continue
        todo.append(rel)
    return sorted(keep), entries, todo


# Per path: (on disk?, how its record differs, wanted as, listed in the manifest?)
states = st.tuples(
    st.booleans(),
    st.sampled_from(["same", "size", "mtime", "key"]),
    st.sampled_from(["deferred", "bytes", "absent"]),
    st.booleans(),
)


@FEW
@given(st.lists(states, min_size=len(PATHS), max_size=len(PATHS)))
def test_kept_and_made_are_what_the_old_loop_found(tmp_path_factory, plan):
    out = tmp_path_factory.mktemp("out")
    wanted, known = {}, {}
    for rel, (on_disk, differs, kind, listed) in zip(PATHS, plan, strict=True):
        path = out / rel
        if on_disk:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rel.encode())
        if listed:
            st_ = path.stat() if on_disk else None
            size = st_.st_size if st_ else 3
            mtime = st_.st_mtime_ns if st_ else 7
            known[rel] = [
                "k" if differs != "key" else "other",
                size + (differs == "size"),
                mtime + (differs == "mtime"),
            ]
        if kind == "deferred":
            wanted[rel] = Deferred("k", lambda: b"")
        elif kind == "bytes":
            wanted[rel] = rel.encode()
    old = old_files(Path(out), known)
    keep, entries = [], {}
    todo = publish._unchanged(wanted, old, known, Path(out), keep, entries)
    assert (sorted(keep), entries, todo) == reference(wanted, old, known)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=8,
)


@FEW
@given(st.dictionaries(st.text(max_size=4), values, max_size=6))
def test_record_check_is_the_old_check(files):
    """On what JSON can hold: exact lists, dicts, scalars."""
    files = json.loads(json.dumps(files))
    expected = all(isinstance(v, list) and len(v) == 3 for v in files.values())
    assert manifest._records(files.values()) == expected
