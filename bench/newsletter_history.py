"""The newsletter with a long history (issue 16): building the next issue with 500 past issues.

500 weekly issues are recorded in the state database from the synthetic corpus, the archive is
published once (cold: every issue rendered, in-process), and then the next issue is built
``repeat`` times as a person or the scheduler does it, ``python -m pipeline newsletter --force``
in its own process (interpreter start and imports included), timed on the wall clock.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from bench import corpus
from bench.messaging import _figure

PAST_ISSUES = 500


def newsletter_history(repeat: int, say: Callable[[str], None], past: int = PAST_ISSUES) -> list[dict]:
    from pipeline.caching.content_cache import read_cached
    from pipeline.config.mail import newsletter_config
    from pipeline.config.site import load_settings
    from pipeline.delivery.issues import IssueStore
    from pipeline.publishing.issue_build import build_issue
    from pipeline.reading.dates import parse_datetime
    from pipeline.stores import statedb

    work = Path(tempfile.mkdtemp(prefix="goal17-bench-history-"))
    try:
        config_file = work / "site.toml"
        config_file.write_text(f'[site]\nstate_dir = "{work / "state"}"\n', encoding="utf-8")
        settings = load_settings(config_file)
        content = corpus.write_corpus(work / "content", 2 * past + 100)
        now = parse_datetime(corpus.BENCH_NOW, settings.tz)
        updates = read_cached(content, settings, now).updates
        first = now - timedelta(weeks=past + repeat + 2)
        with closing(statedb.connect(newsletter_config(settings).state_dir)) as conn:
            store = IssueStore(conn)
            for week in range(past):
                store.create(updates, first + timedelta(weeks=week), force=True)
        out = work / "out"
        start = time.perf_counter()
        build_issue(content, out, settings, first + timedelta(weeks=past), force=True)
        cold = time.perf_counter() - start
        say(f"newsletter history: first archive publish of {past + 1} issues {cold:.1f} s")
        from bench.run import run_measured

        times = []
        for n in range(repeat):
            when = (first + timedelta(weeks=past + 1 + n)).isoformat()
            command = [sys.executable, "-m", "pipeline", "newsletter", "--config", str(config_file)]
            command += ["--content", str(content), "--out", str(out), "--now", when, "--force", "-q"]
            times.append(run_measured(command).seconds)
            say(f"newsletter history: next issue with {past + 1 + n} past issues {times[-1]:.2f} s")
        return [
            _figure(f"next newsletter issue with {past:,}+ past issues (CLI process)", times, "s"),
            _figure(f"first publish of the {past + 1}-issue archive (every issue rendered)", [cold], "s"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
