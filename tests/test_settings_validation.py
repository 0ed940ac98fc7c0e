"""The whole settings file is checked at every command's start, every problem at once, each
at its line (``site.toml:LINE: error: …``); the same for schedule.toml at the scheduler's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config.site import SettingsError, load_checked_settings, load_settings
from pipeline.config.tomlfile import key_lines

REPO = Path(__file__).resolve().parent.parent


def cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def write(path: Path, text: str) -> str:
    text = textwrap.dedent(text).lstrip()
    path.write_text(text, encoding="utf-8")
    return text


def test_a_bad_newsletter_transport_stops_build_not_only_send(tmp_path: Path) -> None:
    """Defect 15: ``transport = "pigeon"`` built fine and failed on Monday at ``send``."""
    shutil_copy_content(tmp_path)
    text = write(
        tmp_path / "site.toml", '[site]\nstate_dir = "state"\n\n[newsletter]\ntransport = "pigeon"\n'
    )
    done = cli(tmp_path, "build", "--out", "site")
    assert done.returncode == 1, done.stdout + done.stderr
    line = line_of(text, "transport")
    assert f"site.toml:{line}: error: [newsletter] transport: must be one of outbox, smtp, got 'pigeon'" in (
        done.stderr.splitlines()
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "site").exists()


def shutil_copy_content(root: Path) -> None:
    (root / "content").mkdir()
    source = REPO / "content" / "lokala-data-for-agenda-2030.md"
    (root / "content" / source.name).write_bytes(source.read_bytes())


def test_every_mistake_in_every_table_is_reported_at_once_at_its_line(tmp_path: Path) -> None:
    text = write(
        tmp_path / "site.toml",
        """
        # comment
        [site]
        description = \"\"\"
        timezone = "not a key: inside a multi-line string"
        \"\"\"
        feed_itmes = 5
        base_url = "ftp://example.se/"

        [newsletter]
        intro_sv = "Hej"
        transport = "pigeon"
        first_issue_days = 0

        [smtp]
        port = "587"
        security = "ssl"

        [web]
        allowed_origins = [
            "https://ok.example",
            "https://bad.example/path",
        ]
        token_days = 0

        [webb]
        x = 1
        """,
    )
    try:
        load_checked_settings(tmp_path / "site.toml")
    except SettingsError as exc:
        problems = exc.problems
    else:
        raise AssertionError("invalid settings accepted")
    source = str(tmp_path / "site.toml")
    expected = [
        ("feed_itmes", "[site] feed_itmes: unknown setting"),
        ("base_url", "[site] base_url: must be an absolute http(s) URL"),
        ("transport", "[newsletter] transport: must be one of outbox, smtp"),
        ("first_issue_days", "[newsletter] first_issue_days: must be at least 1"),
        ("port", "[smtp] port: expected int, got '587'"),
        ("security", "[smtp] security: must be one of starttls, tls, none"),
        ("allowed_origins", "[web] allowed_origins: 'https://bad.example/path' is not an origin"),
        ("token_days", "[web] token_days: must be between 1 and 365"),
        ("[webb]", "[webb]: unknown table"),
    ]
    assert len(problems) == len(expected), problems
    for problem, (start, message) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{source}:{line_of(text, start)}: error: {message}"), problem


def test_load_settings_alone_reports_site_and_table_names_all_at_once(tmp_path: Path) -> None:
    write(tmp_path / "site.toml", '[site]\nlanguage = "de"\n[newsleter]\n[smpt]\n')
    try:
        load_settings(tmp_path / "site.toml")
    except SettingsError as exc:
        assert [p.split(": error: ")[1].split(":")[0] for p in exc.problems] == [
            "[site] language",
            "[newsleter]",
            "[smpt]",
        ]
        assert [p.split(":")[1] for p in exc.problems] == ["2", "3", "4"]
    else:
        raise AssertionError("accepted")


def test_invalid_toml_points_at_its_line(tmp_path: Path) -> None:
    write(tmp_path / "site.toml", '[site]\ntitle = "x"\nlanguage = \n')
    done = cli(tmp_path, "check")
    assert done.returncode == 1
    assert done.stderr.startswith("site.toml:3: error: invalid TOML:"), done.stderr


def test_schedule_and_site_problems_are_reported_together(tmp_path: Path) -> None:
    site = write(tmp_path / "site.toml", '[site]\nstate_dir = "state"\n[newsletter]\nintro_sw = "Hej"\n')
    schedule = write(
        tmp_path / "schedule.toml",
        """
        [scheduler]
        workers = 99

        [jobs.weekly]
        kind = "build"
        cron = { day_of_week = "mon", hour = 25 }
        """,
    )
    done = cli(tmp_path, "jobs")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert f"schedule.toml:{line_of(schedule, 'workers')}: error: [scheduler] workers:" in lines[0]
    assert lines[1].startswith(f"schedule.toml:{line_of(schedule, 'cron')}: error: [jobs.weekly] cron.hour:")
    assert lines[2].startswith(f"site.toml:{line_of(site, 'intro_sw')}: error: [newsletter] intro_sw:")
    assert lines[-1] == "error: invalid schedule schedule.toml; nothing was started"


def test_a_state_folder_that_is_a_file_is_a_settings_problem_at_its_line(tmp_path: Path) -> None:
    """Was ``error: --out o: cannot write afile.txt/outputs`` from build and ``afile.txt: File
    exists`` from the others: the state folder, not --out, was wrong."""
    (tmp_path / "afile.txt").write_text("x", encoding="utf-8")
    for value, message in (
        ("afile.txt", "afile.txt is a file, not a folder"),
        ("afile.txt/state", "afile.txt/state: afile.txt is a file, not a folder"),
    ):
        text = write(tmp_path / "site.toml", f'[site]\ntitle = "x"\nstate_dir = "{value}"\n')
        for argv in (["build", "--out", "o"], ["subscribers", "list"], ["send"]):
            done = cli(tmp_path, *argv)
            assert done.returncode == 1, done.stderr
            first = done.stderr.splitlines()[0]
            assert first.startswith(f"site.toml:{line_of(text, 'state_dir')}: error: [site] state_dir: "), (
                first
            )
            assert first.endswith(message), first


def test_a_bad_command_line_override_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    write(tmp_path / "site.toml", '[site]\nbase_url = "https://example.se/"\n')
    done = cli(tmp_path, "build", "--base-url", "ftp://example.se/")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "error: --base-url: must be an absolute http(s) URL such as https://example.se/, got 'ftp://example.se/'"
    )


def test_the_shipped_settings_and_schedule_are_valid(tmp_path: Path) -> None:
    load_checked_settings(REPO / "site.toml")
    for name in ("site.toml", "schedule.toml"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    done = cli(tmp_path, "jobs", "--now", "2026-11-30T07:00")
    assert done.returncode == 0, done.stderr


# -- the line scan, attacked with generated files ------------------------------------------------

_bare = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
_tricky = st.sampled_from(["key = 1", "[table]", "[[x]]", "a.b = 2", "#", '"', "'", "]", "{", "}", "="])
_string = st.lists(st.one_of(_text, _tricky), max_size=4).map(" ".join)
_value = st.recursive(
    st.one_of(st.integers(), st.booleans(), _string),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


def _render(value: object, style: int) -> str:
    """TOML text for a value, in one of several layouts (some spanning lines)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if style == 1 and '"""' not in value and not value.endswith('"') and "\\" not in value:
            return f'"""\n{value}\n"""'
        if style == 2 and "'''" not in value and not value.endswith("'") and "\n" not in value:
            return f"'''{value}'''"
        return json.dumps(value, ensure_ascii=False)
    items = [_render(item, style) for item in value]
    if style == 1:
        return "[\n" + "".join(f"    {item},  # a comment with ] and [\n" for item in items) + "]"
    return "[" + ", ".join(items) + "]"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        _bare,
        st.dictionaries(_bare, st.tuples(_value, st.integers(0, 2)), max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_key_lines_finds_the_line_of_every_key(tables: dict) -> None:
    lines: list[str] = []
    expected: dict[tuple[str, ...], int] = {}
    for table, keys in tables.items():
        lines.append(f"[{table}]  # header")
        expected[(table,)] = len(lines)
        for key, (value, style) in keys.items():
            rendered = _render(value, style)
            lines.append(f"{key} = {rendered}")
            expected[(table, key)] = len(lines)
            lines[-1:] = lines[-1].split("\n")
        lines.append("")
    text = "\n".join(lines)
    tomllib.loads(text)  # the generated text is real TOML
    found = key_lines(text)
    for keys, line in expected.items():
        assert found.get(keys) == line, (keys, text)


def test_control_characters_in_settings_are_refused_at_their_lines(tmp_path: Path) -> None:
    """qa17: ``sender_name = "A\\r\\nBcc: v@x.org"`` passed ``check`` and made ``newsletter`` end
    with exit 70 (internal error, ValueError from the email package); a NUL in [site] title was
    published into every page and feed. Every such value is refused at its line, all at once."""
    shutil_copy_content(tmp_path)
    text = write(
        tmp_path / "site.toml",
        """
        [site]
        state_dir = "state"
        sender_name = "A\\r\\nBcc: victim@example.org"
        title = "T\\u0000X"
        organisation = "Org\\nX-Injected: yes"

        [newsletter]
        subject_sv = "V {week}\\u2028{title}"
        intro_en = "Hi\\u001b[31m"
        """,
    )
    for command in ("check", "build", "newsletter"):
        done = cli(tmp_path, command)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
        for key in ("sender_name", "title", "organisation", "subject_sv", "intro_en"):
            assert f"site.toml:{line_of(text, key)}: error:" in done.stderr, (key, done.stderr)
        assert "control character" in done.stderr
    assert not (tmp_path / "outputs").exists()


def test_state_lives_in_one_folder(tmp_path):
    """``[newsletter] state_dir`` may only name ``[site] state_dir`` (older files); another folder
    would split the subscriber list from its send log, so it is a settings error at its line."""
    same = write(tmp_path / "same.toml", '[site]\nstate_dir = "state"\n[newsletter]\nstate_dir = "state"\n')
    assert same and load_checked_settings(tmp_path / "same.toml").newsletter.state_dir == tmp_path / "state"
    write(tmp_path / "other.toml", '[site]\nstate_dir = "state"\n[newsletter]\nstate_dir = "elsewhere"\n')
    try:
        load_checked_settings(tmp_path / "other.toml")
    except SettingsError as exc:
        (problem,) = exc.problems
        assert problem.startswith(
            f"{tmp_path / 'other.toml'}:4: error: [newsletter] state_dir: is no longer used"
        )
    else:
        raise AssertionError("a second state folder was accepted")
