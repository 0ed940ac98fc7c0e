"""Hostile content is refused with a path:line error and never published (issue 17, defects 6-8).

Links out of the content folder, YAML alias bombs, control characters that would become mail
headers, oversized updates: each through the real command line, checking the error line, the
exit code, that nothing reached the output folder and, for the bombs, that time and memory stay
bounded (a subprocess under RLIMIT_AS and a timeout).
"""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.delivery.message import HeaderInjection, MessageTemplate
from pipeline.reading.content import read_content
from pipeline.reading.files import UnsafeFile, read_beneath
from pipeline.reading.model import ContentError
from tests.conftest import NOW, REPO

SECRET_TEXT = "GOAL17_SECRET=hemligt-9f8e7d6c5b4a-abcdefghijklmn"
MEMORY_LIMIT = 1536 * 1024 * 1024  # the alias bomb reached 4.7 GB before the fix
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


def cli(*argv: str) -> int:
    return main(list(argv))


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def site(write_update, content_dir: Path) -> Path:
    write_update("forsta", body="Första.\n", targets=["17.9"], date="2026-10-01")
    (content_dir / "media").mkdir()
    (content_dir / "media" / "bild.png").write_bytes(b"\x89PNG fake")
    return content_dir


def build(content: Path, out: Path, *extra: str) -> int:
    return cli("build", "--content", str(content), "--out", str(out), "--now", NOW.isoformat(), *extra)


def assert_refused(capsys, content: Path, out: Path, expected: str, before: dict[str, bytes] | None = None):
    code = build(content, out)
    err = capsys.readouterr().err
    assert code == 1, err
    assert expected in err, err
    assert "Traceback" not in err
    if before is None:
        assert not out.exists(), "nothing may be published"
    else:
        assert files_under(out) == before, "the output folder must stay as it was"
    return err


# -- defect 6: links out of the content folder ----------------------------------------------------


def test_symlinked_asset_is_refused_and_its_target_never_published(site, tmp_path, capsys):
    secret = tmp_path / "environ"
    secret.write_text(SECRET_TEXT + "\n")
    (site / "media" / "env.txt").symlink_to(secret)
    err = assert_refused(
        capsys, site, tmp_path / "out", "media/env.txt:0: error: media/env.txt is a symbolic link"
    )
    assert SECRET_TEXT not in err


def test_symlink_to_proc_self_environ_never_reaches_the_output(site, tmp_path):
    """The exact attack of the issue, in a real process whose environment holds the secret."""
    (site / "media" / "env.txt").symlink_to("/proc/self/environ")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--content", str(site), "--out", str(out)],
        cwd=tmp_path,
        env={**os.environ, "GOAL17_SECRET": "hemligt-9f8e7d6c5b4a-abcdefghijklmn", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "media/env.txt:0: error:" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_symlinked_update_folder_and_dangling_link_are_refused(site, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shadow.png").write_text(SECRET_TEXT)
    (site / "stolen").symlink_to(elsewhere, target_is_directory=True)
    (site / "media" / "gone.png").symlink_to(tmp_path / "does-not-exist")
    (site / "andra.md").symlink_to(site / "forsta.md")
    err = assert_refused(capsys, site, tmp_path / "out", "stolen:0: error: stolen is a symbolic link")
    assert "media/gone.png:0: error:" in err
    assert "andra.md:1: error: andra.md is a symbolic link" in err


def test_hard_linked_file_is_refused(site, tmp_path, capsys):
    outside = tmp_path / "private.txt"
    outside.write_text(SECRET_TEXT)
    os.link(outside, site / "media" / "private.txt")
    assert_refused(
        capsys, site, tmp_path / "out", "media/private.txt:0: error: media/private.txt has 2 hard links"
    )


def test_a_pipe_is_refused_instead_of_hanging_the_build(site, tmp_path, capsys):
    os.mkfifo(site / "media" / "pipe.txt")
    assert_refused(
        capsys, site, tmp_path / "out", "media/pipe.txt:0: error: media/pipe.txt is not a plain file"
    )


def test_a_link_added_after_a_good_build_leaves_the_old_site(site, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(site, out) == 0
    before = files_under(out)
    (site / "media" / "bild.png").unlink()
    (site / "media" / "bild.png").symlink_to("/etc/passwd")
    assert_refused(capsys, site, out, "media/bild.png:0: error:", before=before)


def test_reading_refuses_links_swapped_in_after_the_check(site, tmp_path):
    """The check/use race: read_beneath opens component by component with O_NOFOLLOW."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_TEXT)
    assert read_beneath(site, "media/bild.png") == b"\x89PNG fake"
    (site / "media" / "bild.png").unlink()
    (site / "media" / "bild.png").symlink_to(secret)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_beneath(site, "media/bild.png")
    os.rename(site / "media", site / "media-real")
    (site / "media").symlink_to(tmp_path)
    with pytest.raises(UnsafeFile, match="link or not a folder"):
        read_beneath(site, "media/secret.txt")
    with pytest.raises(UnsafeFile):
        read_beneath(site, "../secret.txt")


# -- defect 7: YAML alias bombs, anchors, merge keys ------------------------------------------------


def limited_run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=300,  # generous: a busy machine; the alias bomb never ended before the fix
    )


@pytest.mark.parametrize("command", ["check", "build", "run"])
def test_alias_bomb_is_refused_quickly_by_check_build_and_the_scheduled_build(
    command, site, tmp_path, write_update
):
    (site / "bomb.md").write_text(
        "---\ntitle: Bomb\nid: tag:test.example,2026:bomb\ndate: 2026-10-01\n" + BOMB + "\n---\nText.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    if command == "run":
        schedule = tmp_path / "schedule.toml"
        schedule.write_text(
            f'[jobs.site]\nkind = "build"\ninterval = "15m"\n'
            f'options = {{ content = "{site}", out = "{out}" }}\n',
            encoding="utf-8",
        )
        (tmp_path / "site.toml").write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
        argv = ["run", "site", "--config", str(schedule), "--site", str(tmp_path / "site.toml")]
    elif command == "build":
        argv = ["build", "--content", str(site), "--out", str(out)]
    else:
        argv = ["check", "--content", str(site)]
    done = limited_run(*argv, cwd=tmp_path)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert "bomb.md:5: error: YAML anchors ('&a') are not allowed in front matter" in text
    assert "MemoryError" not in text
    if command != "run":  # the scheduler logs a failed job's traceback in its own log, by design
        assert "Traceback" not in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("yaml_lines", "expected"),
    [
        ("base: &b {lang: en}\n<<: *b", "bomb.md:5: error: YAML anchors ('&b') are not allowed"),
        ("tags: *nothing", "bomb.md:5: error: YAML aliases ('*nothing') are not allowed"),
        ("<<: {lang: en}", "bomb.md:5: error: YAML merge keys ('<<') are not allowed"),
        ("x: " + "[" * 50 + "]" * 50, "bomb.md:5: error: front matter nests deeper than 8 levels"),
        ("x: " + "[" * 5000 + "]" * 5000, "bomb.md:5: error: front matter nests deeper than 8 levels"),
        ("x: '" + "y" * 70_000 + "'", "bomb.md:2: error: front matter is 70"),
    ],
)
def test_front_matter_tricks_are_refused_with_their_line(site, yaml_lines, expected, capsys):
    (site / "bomb.md").write_text(
        "---\ntitle: Bomb\nid: tag:test.example,2026:bomb\ndate: 2026-10-01\n"
        + yaml_lines
        + "\n---\nText.\n",
        encoding="utf-8",
    )
    assert cli("check", "--content", str(site)) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


# -- defect 8: control characters that would become mail headers -----------------------------------

INJECTION = '"Rubrik\\r\\nBcc: victim@example.org\\r\\nX-Injected: yes"'


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("title", INJECTION),
        ("title", '"Rubrik\\nBcc: victim@example.org"'),
        ("title", '"Rubrik\\u0085Bcc: victim@example.org"'),
        ("title", '"Rubrik\\u2028Bcc: victim@example.org"'),
        ("title", '"Rubrik\\x7f"'),
        ("title", '"Rubrik\\tmed tabb"'),
        ("tags", '["ok", "Bcc\\r\\nX: y"]'),
        ("author", '"Anna\\r\\nBcc: victim@example.org"'),
        ("summary", '"Kort\\r\\nBcc: victim@example.org"'),
        ("slug", '"a\\r\\nb"'),
        ("id", '"tag:test.example,2026:x\\r\\nBcc: v@example.org"'),
        ("image_alt", '"alt\\u2029text"'),
        ("unknown_key", '"x\\x00y"'),
    ],
)
def test_control_characters_in_front_matter_are_refused(write_update, content_dir, key, value, capsys):
    write_update("forsta", **{key: value})
    assert cli("check", "--content", str(content_dir)) == 1
    err = capsys.readouterr().err
    line = {"title": 2, "id": 3}.get(key, 5)
    assert f"forsta.md:{line}: error: '{key}' contains the control character U+" in err, err


def test_a_summary_block_scalar_keeps_working(write_update, content_dir, settings):
    write_update("forsta", summary="|\n  Två rader\n  med\ttabb.")
    update = read_content(content_dir, settings, NOW).updates[0]
    assert update.summary == "Två rader med tabb."


def test_control_characters_in_the_body_that_xml_cannot_carry_are_refused(
    write_update, content_dir, settings
):
    write_update("forsta", body="Rad ett.\n\nRad\x00 två.\n")
    with pytest.raises(ContentError) as caught:
        read_content(content_dir, settings, NOW)
    assert [str(p) for p in caught.value.problems] == [
        "forsta.md:8: error: the text contains the control character U+0000 (\\x00); remove it"
    ]


def test_newsletter_refuses_an_injected_title_and_writes_no_message(
    write_update, content_dir, tmp_path, capsys
):
    write_update("forsta", title=INJECTION, date="2026-11-20T10:00")
    config = tmp_path / "site.toml"
    config.write_text('[site]\nstate_dir = "state"\n', encoding="utf-8")
    out = tmp_path / "out"
    code = cli("newsletter", "--config", str(config), "--content", str(content_dir), "--out", str(out),
               "--now", NOW.isoformat())  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "forsta.md:2: error: 'title' contains the control character U+000D" in err, err
    assert not any(p.name == "message.eml" for p in tmp_path.rglob("*"))


def test_message_headers_never_carry_a_line_break(tmp_path, content_dir, write_update):
    """Defence in depth where the bytes are made: a Subject with CR LF raises, never is emitted."""
    from pipeline.config.mail import newsletter_config
    from pipeline.config.site import load_settings
    from pipeline.delivery.issues import IssueStore
    from pipeline.outputs.newsletter.render import render_edition
    from tests.newsletter_helpers import write_settings, write_updates
    from tests.state_db import connect

    settings = load_settings(write_settings(tmp_path))
    config = newsletter_config(settings)
    write_updates(write_update, 3)
    with connect(config) as conn:
        issue = IssueStore(conn).plan(read_content(content_dir, settings, NOW).updates, NOW)
    edition = render_edition(issue, "sv", settings, config)
    for bad in ("Rubrik\r\nBcc: victim@example.org", "Rubrik\nBcc: v@example.org", "R\u2028x"):
        with pytest.raises(HeaderInjection, match="Subject"):
            MessageTemplate(dataclasses.replace(edition, subject=bad), settings, config, b"s" * 32, NOW)
    template = MessageTemplate(edition, settings, config, b"s" * 32, NOW)
    with pytest.raises(HeaderInjection, match="To"):
        template.personalise("Ab3_x-9QrStU", "anna@example.se\r\nBcc: victim@example.org")
    data = template.personalise("Ab3_x-9QrStU", "anna@example.se").data
    assert b"Bcc" not in data


# -- the size limit per update ---------------------------------------------------------------------


def test_an_update_larger_than_the_limit_is_refused(write_update, content_dir, tmp_path, capsys):
    write_update("stor", body="Ord. " * 220_000)  # about 1.1 MB, over the 1 MiB default
    assert cli("check", "--content", str(content_dir)) == 1
    err = capsys.readouterr().err
    assert "stor.md:1: error: stor.md is 1100" in err and "more than the 1048576 allowed" in err, err
    assert "[content] max_update_bytes" in err


def test_the_limit_is_configurable_in_site_toml(write_update, content_dir, tmp_path, capsys):
    write_update("mellan", body="Ord. " * 1000)
    config = tmp_path / "site.toml"
    config.write_text("[content]\nmax_update_bytes = 2048\n", encoding="utf-8")
    assert cli("check", "--config", str(config), "--content", str(content_dir)) == 1
    assert "mellan.md:1: error: mellan.md is 50" in capsys.readouterr().err
    config.write_text("[content]\nmax_update_bytes = 100000\n", encoding="utf-8")
    assert cli("check", "--config", str(config), "--content", str(content_dir)) == 0
    config.write_text("[content]\nmax_update_bytes = 10\n", encoding="utf-8")
    assert cli("check", "--config", str(config), "--content", str(content_dir)) == 1
    err = capsys.readouterr().err
    assert "[content] max_update_bytes: must be between 1024 and 67108864, got 10" in err
    assert "Traceback" not in err


def test_new_refuses_a_title_with_a_line_break(content_dir, capsys):
    code = cli("new", "Rubrik\r\nBcc: victim@example.org", "--content", str(content_dir))
    err = capsys.readouterr().err
    assert code == 1 and "control character U+000D" in err and "Traceback" not in err, err
    assert not list(content_dir.iterdir())


# -- Markdown that would take Python-Markdown minutes, or overflow its stack -----------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[a](" * 4000,
            "hostile.md:6: error: this paragraph has 4000 unclosed '[', '(' or '<' in 16000 characters",
        ),
        ("<a " * 20000, "hostile.md:6: error: this paragraph has 60000 characters (at most 20000)"),
        ("`a" * 20000, "hostile.md:6: error: this paragraph has 40000 characters (at most 20000)"),
        ("---\n" * 5000, "hostile.md:6: error: this paragraph has 5000 lines (at most 300)"),
        (
            "".join("  " * i + "- x\n" for i in range(40)),
            "hostile.md:39: error: this line is indented 66 columns",
        ),
        (
            "".join(f"[^{i}]: x\n\n" for i in range(600)),
            "hostile.md:6: error: the text has 600 footnotes (at most 500)",
        ),
        (
            "| a |\n|---|\n| " + "`a" * 12000 + " |\n",
            "hostile.md:6: error: this table row has 24004 characters",
        ),
    ],
    ids=["unclosed-links", "unclosed-tags", "code-spans", "hr-lines", "deep-list", "footnotes", "table-cell"],
)
def test_markdown_that_would_hang_or_crash_the_renderer_is_refused(content_dir, body, expected, capsys):
    (content_dir / "hostile.md").write_text(
        '---\ntitle: "T"\nid: "tag:test.example,2026:h"\ndate: 2026-10-01\n---\n' + body, encoding="utf-8"
    )
    assert cli("check", "--content", str(content_dir)) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "RecursionError" not in err, err[:500]


def test_ordinary_long_text_with_many_links_and_a_long_table_still_builds(content_dir, settings):
    links = "\n\n".join(
        "Text med [en länk](https://e.example/) och (parentes) <b>fet</b>." for _ in range(300)
    )
    table = "| a | b |\n|---|---|\n" + "| [x](https://e.example/) | y |\n" * 1500
    (content_dir / "lang.md").write_text(
        '---\ntitle: "T"\nid: "tag:test.example,2026:l"\ndate: 2026-10-01\n---\n' + links + "\n\n" + table,
        encoding="utf-8",
    )
    assert len(read_content(content_dir, settings, NOW).updates) == 1


def test_a_megabyte_of_adversarial_markdown_is_handled_within_a_generous_timeout(tmp_path):
    """Updates at the 1 MiB limit, shaped for the renderer's slowest paths: accepted ones are
    rendered in full, the others refused, each run well inside the timeout and under RLIMIT_AS."""
    content, refused = tmp_path / "content", tmp_path / "refused"
    shapes = {
        content: {
            "spans": "\n\n".join(["`a" * 9999] * 50),
            "strong": "\n\n".join(["**a" * 6666] * 50),
            "rules": ("---\n" * 299 + "\n") * 800,
        },
        refused: {"brackets": "[a](" * 250000, "one-paragraph": "`a" * 500000, "deep": "  " * 300 + "- x\n"},
    }
    for folder, bodies in shapes.items():
        folder.mkdir()
        for name, body in bodies.items():
            (folder / f"{name}.md").write_text(
                f'---\ntitle: "T"\nid: "tag:test.example,2026:{name}"\ndate: 2026-10-01\n---\n{body}',
                encoding="utf-8",
            )
    done = limited_run("check", "--content", str(content), cwd=tmp_path)  # rendered in full
    assert done.returncode == 0 and "3 published" in done.stdout, done.stderr[-2000:]
    done = limited_run("check", "--content", str(refused), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    for name in shapes[refused]:
        assert f"{name}.md:6: error:" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# -- qa17: dates at the edge of what Python's datetime can hold ------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:00-12:00", "0001-01-01"])
def test_a_date_python_cannot_convert_is_a_line_error_not_an_internal_error(
    write_update, content_dir, tmp_path, value, capsys
):
    """Year 1 at +14:00 is year 0 in UTC: the build crashed with exit 70 (OverflowError) in the
    page templates. Every date must be convertible to UTC and the site's zone, with room for the
    windows the newsletter adds, so such a date is refused at its line."""
    write_update("kant", date=value, targets=["17.9"])
    out = tmp_path / "out"
    err = assert_refused(capsys, content_dir, out, "kant.md:4: error: 'date'")
    assert "internal error" not in err
    assert cli("check", "--content", str(content_dir)) == 1
    assert "kant.md:4: error: 'date'" in capsys.readouterr().err


@pytest.mark.parametrize("inside", ["content/media/site", "content/new-site", "state/site"])
def test_an_output_folder_inside_the_content_or_state_folder_is_refused(site, tmp_path, inside, capsys):
    """``build --out content/media/site`` was accepted: each later build published the previous
    output again as media (178 files, then 356, then 534), and the default build put the whole
    stale site under media/. OUT inside the content or the state folder (or holding either) is
    refused before anything is written."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    settings_file = tmp_path / "site.toml"
    settings_file.write_text(f'[site]\nstate_dir = "{state}"\n', encoding="utf-8")
    out = tmp_path / inside
    before = files_under(site)
    for _ in range(2):
        code = cli("build", "--config", str(settings_file), "--content", str(site), "--out", str(out))
        err = capsys.readouterr().err
        assert code == 1, err
        assert "--out" in err and "inside" in err, err
        assert not out.exists()
    assert files_under(site) == before


@pytest.mark.parametrize(
    "name, data",
    [
        ("media/x.html", b"<script>alert(document.cookie)</script>"),
        ("media/x.SVG", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("media/x.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'),
        ("media/x.js", b"alert(1)"),
        ("x.php", b"<?php system($_GET['c']); ?>"),
    ],
)
def test_a_file_a_browser_or_server_would_run_is_refused(site, tmp_path, name, data, capsys):
    """qa17: every non-Markdown file was copied unchanged, so ``media/x.html`` or an SVG with a
    script went live on the site's origin (the one `serve` shares with the sign-up service),
    past the sanitizer that strips the same script from an update's body."""
    (site / name).write_bytes(data)
    out = tmp_path / "out"
    assert_refused(capsys, site, out, f"{name}:0: error: {name}")
    assert cli("check", "--content", str(site)) == 1
