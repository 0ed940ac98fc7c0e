"""The build command end to end: exit codes, messages, atomicity, determinism."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import urljoin

import pytest

from pipeline.cli import build_parser, main
from tests.conftest import REPO

NOW = "2026-11-27T12:00"


def build(content, out, *extra: str) -> int:
    return main(["build", "--content", str(content), "--out", str(out), "--now", NOW, *extra])


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def mtimes(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def small_site(write_update, content_dir):
    write_update("forsta", body="Första [andra](andra.md).\n", targets=["17.9"], date="2026-10-01")
    write_update("andra", body="Andra.\n", targets=["17.17", "17.10"], date="2026-10-02", lang="en")
    write_update("utkast", draft=True)
    return content_dir


def test_build_writes_pages_for_updates_and_all_targets(small_site, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(small_site, out) == 0
    files = tree(out)
    assert "updates/forsta/index.html" in files and "updates/andra/index.html" in files
    assert "updates/utkast/index.html" not in files
    assert all(f"targets/17.{n}/index.html" in files for n in range(1, 20))
    assert "index.html" in files and "static/style.css" in files
    assert "built 2 updates" in capsys.readouterr().out
    page = files["updates/andra/index.html"].decode()
    assert '<html lang="en">' in page
    assert '<link rel="canonical" href="https://mal17.example.se/updates/andra/">' in page
    assert 'type="application/atom+xml" href="../../feeds/atom.xml"' in page
    assert "2 October 2026" in page
    assert "17.10" in page and "Promote a universal trading system under the WTO" in page
    assert "1 oktober 2026" in files["updates/forsta/index.html"].decode()
    empty_target = files["targets/17.1/index.html"].decode()
    assert "Inga nyheter om det här delmålet ännu." in empty_target
    assert "feeds/targets/17.1/atom.xml" in empty_target


def test_pages_contain_no_script_and_only_links_into_the_site(write_update, content_dir, tmp_path):
    write_update("elak", body="<script>alert(1)</script> [rel](annan/) <a href='x' onclick='y()'>a</a>\n")
    out = tmp_path / "out"
    assert build(content_dir, out) == 0
    for path, data in tree(out).items():
        # snippets/ holds the partners' embed demo and sign-up form, whose own scripts are the point
        if path.endswith(".html") and not path.startswith("snippets/"):
            html = data.decode()
            assert "<script" not in html and "onclick" not in html
            page_url = "https://mal17.example.se/" + path.removesuffix("index.html")
            for url in re.findall(r'(?:href|src)="([^"]*)"', html):
                if url.startswith("mailto:"):
                    continue
                # issue 16: in-site links are relative to the page (the 404 page, answered at any
                # depth, and the canonical and sign-up links stay absolute); all lead into the site
                assert urljoin(page_url, url).startswith("https://mal17.example.se/"), (path, url)
                if url.endswith("static/style.css") and path != "404.html":
                    assert url == "../" * path.count("/") + "static/style.css", (path, url)


def test_two_builds_are_byte_identical(small_site, tmp_path):
    assert build(small_site, tmp_path / "a") == 0
    assert build(small_site, tmp_path / "b") == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_rebuild_with_nothing_changed_keeps_every_mtime(small_site, tmp_path):
    out = tmp_path / "out"
    assert build(small_site, out) == 0
    before = mtimes(out)
    assert build(small_site, out) == 0
    assert mtimes(out) == before


def test_deleted_update_disappears(small_site, tmp_path):
    out = tmp_path / "out"
    assert build(small_site, out) == 0
    (small_site / "andra.md").unlink()
    assert build(small_site, out) == 0
    assert not (out / "updates" / "andra").exists()


def test_bad_content_exits_non_zero_lists_problems_and_leaves_out_untouched(small_site, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(small_site, out) == 0
    before = tree(out), mtimes(out)
    (small_site / "trasig.md").write_text("---\ntitle: Trasig\ndate: igår\n---\n", encoding="utf-8")
    (small_site / "delmal.md").write_text(
        "---\nid: tag:t,2026:d\ntitle: D\ndate: 2026-01-01\ntargets: [17.99]\n---\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert build(small_site, out) == 1
    err = capsys.readouterr().err
    assert "trasig.md:1: error: missing 'id'" in err
    assert "trasig.md:3: error: 'date': not an ISO 8601 date: 'igår'" in err
    assert "delmal.md:5: error: unknown goal-17 target '17.99'" in err
    assert err.strip().endswith("was not changed") and "error: 3 problem(s) in 2 file(s)" in err
    assert (tree(out), mtimes(out)) == before


def test_future_update_appears_on_the_first_build_after_its_time(write_update, content_dir, tmp_path):
    write_update("snart", date="2026-11-27T12:30")
    out = tmp_path / "out"
    assert build(content_dir, out) == 0
    assert not (out / "updates" / "snart").exists()
    assert main(["build", "--content", str(content_dir), "--out", str(out), "--now", "2026-11-27T12:30"]) == 0
    assert (out / "updates" / "snart" / "index.html").exists()


def test_base_url_override(small_site, tmp_path):
    out = tmp_path / "out"
    assert build(small_site, out, "--base-url", "http://127.0.0.1:8000") == 0
    front = (out / "index.html").read_text()
    assert (
        '<link rel="canonical" href="http://127.0.0.1:8000/">' in front and 'href="updates/forsta/"' in front
    )
    assert 'href="http://127.0.0.1:8000/static/style.css"' in (out / "404.html").read_text()


def test_refuses_to_publish_over_a_foreign_folder(small_site, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "important.txt").write_text("keep")
    assert build(small_site, foreign) == 1
    assert "refusing to replace" in capsys.readouterr().err
    assert (foreign / "important.txt").read_text() == "keep"


def test_invalid_settings_name_the_key(small_site, tmp_path, capsys):
    config = tmp_path / "site.toml"
    config.write_text('[site]\nbase_url = "ftp://x"\nfeed_itmes = 3\n', encoding="utf-8")
    assert (
        main(["build", "--config", str(config), "--content", str(small_site), "--out", str(tmp_path / "o")])
        == 1
    )
    err = capsys.readouterr().err
    assert "[site] base_url: must be an absolute http(s) URL" in err
    assert "[site] feed_itmes: unknown setting" in err


def test_missing_content_folder_is_a_clear_error(tmp_path, capsys):
    assert build(tmp_path / "nope", tmp_path / "out") == 1
    assert "content folder not found" in capsys.readouterr().err


def test_bad_now_is_a_clear_error(small_site, tmp_path, capsys):
    assert main(["build", "--content", str(small_site), "--out", str(tmp_path / "o"), "--now", "tisdag"]) == 1
    assert "--now: not an ISO 8601 date" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    """In-process for every command (``main`` as the program runs it: argparse's exit is its
    exit code), and as a real ``python -m pipeline`` process for the first one; every command
    also starts in a process of its own in tests/test_cli_hostile.py."""
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public API
    assert {"build", "new", "check"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code in (0, None), name
        assert "usage:" in capsys.readouterr().out, name
    first = next(iter(commands))
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", first, "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, first
    assert "usage:" in result.stdout


def test_unknown_command_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "pipeline", "bygg"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_example_content_builds_without_warnings(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--out",
            str(tmp_path / "out"),
            "--now",
            "2026-11-27T12:00",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"```sh\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(commands) == 2 and "pipeline build" in commands[0] and "pytest" in commands[1]
    assert "grep -m1 -E '^python3 .*pytest' README.md" in (REPO / ".ci" / "run").read_text()


def test_unknown_settings_table_is_an_error(small_site, tmp_path, capsys):
    config = tmp_path / "site.toml"
    config.write_text('[site]\ntitle = "T"\n\n[newsleter]\nintro = "x"\n', encoding="utf-8")
    assert (
        main(["build", "--config", str(config), "--content", str(small_site), "--out", str(tmp_path / "o")])
        == 1
    )
    assert (
        "[newsleter]: unknown table (known: [site], [content], [newsletter], [smtp], [state], [web])"
        in capsys.readouterr().err
    )


def test_listing_pages_are_numbered_from_the_oldest_and_stay_put(write_update, content_dir, tmp_path):
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\npage_size = 2\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    for day in range(1, 6):
        write_update(f"u{day}", date=f"2026-10-0{day}T10:00")
    out = tmp_path / "out"
    args = ["build", "--config", str(config), "--content", str(content_dir), "--out", str(out), "--now", NOW]
    assert main(args) == 0
    front = (out / "index.html").read_text(encoding="utf-8")
    assert front.index("U5") < front.index("U4") and "U3" not in front  # the newest two
    assert "U1" in (out / "page/1/index.html").read_text() and "U2" in (out / "page/1/index.html").read_text()
    assert '<a rel="next" href="page/2/">' in front  # older: the page after the front page's items
    page1 = (out / "page/1/index.html").read_bytes()
    page1_mtime = (out / "page/1/index.html").stat().st_mtime_ns
    write_update("u6", date="2026-10-06T10:00")
    assert main(args) == 0
    assert (out / "page/1/index.html").read_bytes() == page1  # adding an update moves nothing old
    assert (out / "page/1/index.html").stat().st_mtime_ns == page1_mtime
    assert "U6" in (out / "index.html").read_text(encoding="utf-8")
    # issue 14: archive pages hold only what is not on the front page (no overlap), so 6 updates
    # at 2 a page are the front page and two archive pages (was three, the newest repeating the front)
    assert sorted(p.name for p in (out / "page").iterdir()) == ["1", "2"]


def test_a_listing_that_fits_on_its_front_page_has_no_numbered_pages(small_site, tmp_path):
    out = tmp_path / "out"
    assert build(small_site, out) == 0
    assert not (out / "page").exists() and not (out / "targets/17.9/page").exists()


def test_refused_out_folders_are_one_line_errors_and_leave_no_lock_file(small_site, tmp_path, capsys):
    """Issue 17: `build --out README.md` left `.README.md.lock` behind."""
    readme = tmp_path / "README.md"
    readme.write_text("# not a folder\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    for out in (readme, readme / "sub", tmp_path / "dangling"):
        if out.name == "dangling":
            out.symlink_to(tmp_path / "nowhere")
            before.append("dangling")
        code = main(["build", "--content", str(small_site), "--out", str(out), "-q"])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
        assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
