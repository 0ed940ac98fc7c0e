"""The cheap version lookup gives importlib.metadata's answer, or declines to it."""

from __future__ import annotations

import importlib
import sys
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.caching import fingerprint, library_versions


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder first on sys.path, with both lookups' caches cleared around each use."""

    def install(folder: Path) -> None:
        monkeypatch.setattr(sys, "path", [str(folder), *sys.path])
        library_versions._infos.cache_clear()
        importlib.invalidate_caches()

    yield install
    library_versions._infos.cache_clear()
    importlib.invalidate_caches()


def test_every_installed_distribution_has_importlibs_version():
    names = {dist.metadata["Name"] for dist in metadata.distributions()}
    assert len(names) > 10
    answered = 0
    for name in sorted(names):
        fast = library_versions._from_dist_info(name)
        answered += fast is not None
        assert library_versions.version(name) == metadata.version(name)
        assert fast is None or fast == metadata.version(name)
    assert answered >= len(names) - 2  # the shortcut takes ordinary wheels (not the editable install)


def test_the_libraries_of_the_code_digest_are_found_without_importlib_metadata():
    for name in fingerprint._LIBRARIES:
        assert library_versions._from_dist_info(name) == metadata.version(name)


def test_a_missing_library_raises_importlibs_error():
    with pytest.raises(library_versions.PackageNotFoundError):
        library_versions.version("surely-not-installed-goal17-xyz")
    assert library_versions.PackageNotFoundError is metadata.PackageNotFoundError
    with pytest.raises(AttributeError):
        library_versions.NoSuchName  # noqa: B018


HEADER_LINES = st.one_of(
    st.sampled_from(["Metadata-Version: 2.1", "Name: lib", "Summary: a library", "License: MIT"]),
    st.builds(lambda v: f"Version: {v}", st.text(st.characters(codec="utf-8"), max_size=12)),
    st.builds(lambda v: f"version:{v}", st.sampled_from(["1.0", " 2.0 ", "\t3", ""])),
    st.sampled_from(["", " folded", "\tfolded", "no colon here", "Bad Name: x", ":empty", "X-\u00e9: y"]),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(HEADER_LINES, max_size=8),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    folder_name=st.sampled_from(["lib-1.0.dist-info", "Lib-2.dist-info", "lib.dist-info", "LIB-3.egg-info"]),
    asked=st.sampled_from(["lib", "LIB", "Lib"]),
    second=st.booleans(),
)
def test_hostile_metadata_gives_importlibs_answer_or_declines(
    on_path, tmp_path_factory, lines, ending, folder_name, asked, second
):
    root = tmp_path_factory.mktemp("site")
    info = root / folder_name
    info.mkdir()
    text = ending.join(lines) + ending
    (info / ("PKG-INFO" if folder_name.endswith("egg-info") else "METADATA")).write_bytes(
        text.encode("utf-8")
    )
    if second:  # a stale second copy: both lookups must agree on which one counts
        (root / "lib-9.9.dist-info").mkdir()
        (root / "lib-9.9.dist-info" / "METADATA").write_text("Version: 9.9\n", encoding="utf-8")
    on_path(root)
    fast = library_versions._from_dist_info(asked)
    expected = metadata.version(asked)
    if fast is not None:
        assert fast == expected
    assert library_versions.version(asked) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Version: 1.0\n folded\n",  # a folded value (found by the property test above)
        "version:1.0\n\tfolded\n",
        "Name: lib\nVersion: 1.0 \n",
        "Name: lib\n\nVersion: 1.0\n",  # after the headers: the body
        "Metadata-Version: 2.1\nVersion: 2.0\nVersion: 3.0\n",
        "Version: 1.0\r\nName: lib\r\n",
    ],
)
def test_chosen_metadata_gives_importlibs_answer_or_declines(on_path, tmp_path, text):
    (tmp_path / "lib-1.dist-info").mkdir()
    (tmp_path / "lib-1.dist-info" / "METADATA").write_bytes(text.encode("utf-8"))
    on_path(tmp_path)
    fast = library_versions._from_dist_info("lib")
    assert fast is None or fast == metadata.version("lib")
    assert library_versions.version("lib") == metadata.version("lib")


def test_names_are_matched_as_importlib_normalizes_them(on_path, tmp_path):
    for folder, version in (("My.Lib_Name-1.2.dist-info", "1.2"),):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "METADATA").write_text(
            f"Name: My.Lib_Name\nVersion: {version}\n", encoding="utf-8"
        )
    on_path(tmp_path)
    for asked in ("my-lib-name", "MY_LIB.NAME", "my.lib--name"):
        assert library_versions._from_dist_info(asked) == metadata.version(asked) == "1.2"


def test_another_distribution_finder_makes_it_decline(monkeypatch):
    class Finder:
        @staticmethod
        def find_distributions(context=None):
            return iter(())

        @staticmethod
        def find_spec(name, path=None, target=None):
            return None

    monkeypatch.setattr(sys, "meta_path", [Finder, *sys.meta_path])
    assert library_versions._from_dist_info("markdown") is None
    assert library_versions.version("markdown") == metadata.version("markdown")
