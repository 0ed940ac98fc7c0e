"""The benchmark runner: builds of a synthetic archive, timed in subprocesses, beside the naive baseline.

For each size N it writes the corpus once, then measures, each ``--repeat`` times:

* **cold** — ``python -m pipeline build`` with an empty state folder (no render cache) and no
  output folder;
* **no change** — the same build again;
* **edit one** — after changing the body of one update;
* **add one** — after adding one update newer than all others;
* **naive** — ``python -m bench.naive`` (front matter + Python-Markdown + feedgen, one process).

Before each cold run, each tool's last output is moved aside, not deleted (see ``set_aside``).
``--delete-before`` deletes it instead, as ``hyperfine --prepare 'rm -rf out'`` does: on ext4
without a journal every tool then creates its files among inodes freed a moment ago, which
the kernel skips one by one (``recently_deleted``), and system time dominates every build.

Every build is a separate process, timed on the wall clock from start to exit (interpreter start
and imports included, as a person or a scheduler sees it), and its peak RSS is read from
``wait4``'s resource usage for that child: the largest resident set of the build process or any
process it waited for (the render pool's workers are forked and share the parent's pages, so
their memory is not added on top). Figures are medians with min–max spread; absolute times on a
shared 2-core machine drift, so the cold build is also given as a ratio to the naive baseline
measured in the same run.

    python -m bench                      # N = 1,000 and 10,000, 3 repeats
    python -m bench --sizes 1000 --repeat 5
    python -m bench --quick              # N = 300, 1 repeat: a minute-long sanity check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import corpus
from bench.messaging import messaging_sections
from bench.newsletter_history import newsletter_history
from bench.targets import TARGETS_10K, verdicts

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "latest.json"
SCENARIOS = ("cold", "nochange", "edit", "add", "naive", "hugo")
LABELS = {
    "cold": "cold full build",
    "nochange": "rebuild, nothing changed",
    "edit": "rebuild, one update edited",
    "add": "rebuild, one update added",
    "naive": "naive baseline (1 process)",
    "hugo": "Hugo, pages + one full RSS",
}
HUGO_SITE = REPO / "bench" / "hugo"


@dataclass
class Sample:
    seconds: float
    peak_rss_mib: float


@dataclass
class Figure:
    scenario: str
    size: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def spread(self) -> tuple[float, float]:
        times = [s.seconds for s in self.samples]
        return min(times), max(times)

    @property
    def peak_rss_mib(self) -> float:
        return max(s.peak_rss_mib for s in self.samples)

    def summary(self) -> dict:
        low, high = self.spread
        return {
            "scenario": self.scenario,
            "size": self.size,
            "median_s": round(self.median, 3),
            "min_s": round(low, 3),
            "max_s": round(high, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "runs": [asdict(s) for s in self.samples],
        }


def run_measured(command: list[str], cwd: Path = REPO, extra_env: dict[str, str] | None = None) -> Sample:
    """Run one command to completion: wall time, and the peak RSS ``wait4`` reports for that child."""
    env = dict(os.environ, GOAL17_PROGRESS="0", PYTHONDONTWRITEBYTECODE="1", **(extra_env or {}))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{message}")
    return Sample(seconds=round(elapsed, 4), peak_rss_mib=round(usage.ru_maxrss / 1024, 1))


def build_command(config: Path, content: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipeline",
        "build",
        "--config",
        str(config),
        "--content",
        str(content),
        "--out",
        str(out),
        "--now",
        corpus.BENCH_NOW,
        "--quiet",
    ]


def tree_bytes(folder: Path) -> dict[str, int]:
    """Bytes under ``folder``: of the files alone, and as ``du -sb`` counts (folders included)."""
    files = du = 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        du += os.lstat(dirpath).st_size
        for name in filenames:
            size = os.lstat(os.path.join(dirpath, name)).st_size
            files += size
            du += size
    return {"files": files, "du_sb": du, "count": sum(len(f) for _, _, f in os.walk(folder))}


written: dict[int, dict[str, dict[str, int]]] = {}


def measure_size(size: int, repeat: int, work: Path, say, delete_before: bool = False) -> dict[str, Figure]:
    """All scenarios for one corpus size, each ``repeat`` times (``delete_before``: see the module)."""
    folder = work / f"n{size}"
    if folder.exists():
        shutil.rmtree(folder)
    content, out, state = folder / "content", folder / "outputs", folder / "state"
    say(f"N={size}: writing corpus")
    corpus.write_corpus(content, size)
    config = folder / "site.toml"
    config.write_text(f'[site]\nstate_dir = "{state}"\n', encoding="utf-8")
    command = build_command(config, content, out)
    figures = {name: Figure(name, size) for name in SCENARIOS}

    def measure(name: str) -> None:
        sample = run_measured(command)
        figures[name].samples.append(sample)
        say(f"N={size}: {LABELS[name]}: {sample.seconds:.2f} s, {sample.peak_rss_mib:.0f} MiB")

    hugo = shutil.which("hugo")
    naive_out = folder / "naive-out"
    hugo_out = folder / "hugo-out"
    trash = folder / "trash"

    def set_aside(path: Path) -> None:
        """Move an old output out of the way; it is deleted with ``folder`` after the timed runs.

        Deleting 12,000 files just before a build made that build's file creation up to three
        times slower in system time (ext4 without a journal skips and rescans the inodes freed in
        the last minutes), a cost of the benchmark, not of either tool. With ``delete_before`` that
        cost is measured on purpose, for every tool alike, as a ``hyperfine --prepare 'rm -rf …'``
        run has it.
        """
        if not path.exists():
            return
        if delete_before:
            shutil.rmtree(path)
        else:
            trash.mkdir(exist_ok=True)
            path.rename(trash / f"{path.name}-{len(list(trash.iterdir()))}")

    # Interleaved, so the ratios compare runs made under the same load on a shared machine.
    for _ in range(repeat):
        set_aside(out)
        set_aside(state)
        measure("cold")
        set_aside(naive_out)
        sample = run_measured([sys.executable, "-m", "bench.naive", str(content), str(naive_out)])
        figures["naive"].samples.append(sample)
        say(f"N={size}: {LABELS['naive']}: {sample.seconds:.2f} s, {sample.peak_rss_mib:.0f} MiB")
        if hugo:
            set_aside(hugo_out)
            sample = run_measured(
                [
                    hugo,
                    "--source",
                    str(HUGO_SITE),
                    "--contentDir",
                    str(content),
                    "--destination",
                    str(hugo_out),
                    "--noBuildLock",
                    "--quiet",
                ],
                extra_env={"HUGO_RESOURCEDIR": str(folder / "hugo-resources")},  # not into bench/hugo
            )
            figures["hugo"].samples.append(sample)
            say(f"N={size}: {LABELS['hugo']}: {sample.seconds:.2f} s, {sample.peak_rss_mib:.0f} MiB")
    written[size] = {"goal17": tree_bytes(out), "naive": tree_bytes(naive_out)}
    if hugo:
        written[size]["hugo"] = tree_bytes(hugo_out)
    say(f"N={size}: bytes written {written[size]}")
    for _ in range(repeat):
        measure("nochange")
    for _ in range(repeat):
        corpus.edit_one(content, size)
        measure("edit")
    for extra in range(repeat):
        corpus.add_one(content, size, index=size + extra)
        measure("add")
    shutil.rmtree(folder, ignore_errors=True)
    return figures


def compile_bytecode(say: Callable[[str], None]) -> dict:
    """Compile the pipeline's modules before timing, and say whether the libraries are compiled.

    Every build is timed with ``PYTHONDONTWRITEBYTECODE=1`` (as set on this workplace's machines),
    so an editable install never writes bytecode for our own modules and each build would
    compile ~200 of them again (≈ 0.1 s of an edit build). pip compiles installed libraries at
    install time, and the README's set-up command compiles ours the same way; the bench measures
    that installed state. A library left without bytecode (e.g. its ``__pycache__`` deleted)
    costs every build ≈ 0.4 s more, so it is counted and reported, not silently measured.
    """
    import compileall
    import importlib.util

    compileall.compile_dir(str(REPO / "pipeline"), quiet=1)
    missing = []
    for name in ("jinja2", "markdown", "babel", "feedgen", "markupsafe"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        cached = importlib.util.cache_from_source(spec.origin)
        if not Path(cached).exists():
            missing.append(name)
    if missing:
        say(f"warning: no bytecode for {', '.join(missing)}: every build compiles them (pip install again)")
    return {
        "pipeline": "compiled by the bench, as the README's set-up does",
        "libraries_without_bytecode": missing,
    }


def machine() -> dict:
    """What the figures were measured on: they mean little without it."""
    model = ""
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(builds: dict[int, dict[str, Figure]], others: list[dict]) -> str:
    lines = [
        f"{'N':>6}  {'scenario':<28} {'median s':>9} {'min–max s':>13} {'peak RSS MiB':>13} {'vs naive':>9}"
        f" {'vs Hugo':>8}",
        "-" * 93,
    ]
    for size, figures in builds.items():
        naive = figures["naive"].median
        hugo = figures["hugo"].median if figures["hugo"].samples else None
        for name in SCENARIOS:
            fig = figures[name]
            if not fig.samples:
                continue
            low, high = fig.spread
            ratio = f"{fig.median / naive:.2f}×" if name != "naive" and naive else ""
            to_hugo = f"{fig.median / hugo:.2f}×" if hugo and name != "hugo" else ""
            lines.append(
                f"{size:>6}  {LABELS[name]:<28} {fig.median:>9.2f} {f'{low:.2f}–{high:.2f}':>13} "
                f"{fig.peak_rss_mib:>13.0f} {ratio:>9} {to_hugo:>8}"
            )
        if size in written:
            for who, counted in written[size].items():
                lines.append(
                    f"{size:>6}  bytes written, {who:<13} {counted['du_sb'] / 1e6:>9.1f} MB (du -sb); "
                    f"{counted['files'] / 1e6:.1f} MB in {counted['count']:,} files"
                )
        if not figures["hugo"].samples:
            lines.append(f"{size:>6}  not measured: Hugo — no `hugo` on PATH (apt-get install hugo)")
    for item in others:
        if item.get("measured"):
            lines.append(f"        {item['name']:<62} {item['value']}")
        else:
            lines.append(f"        not measured: {item['name']} — {item['reason']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the site build (issue 8)."
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[1000, 10000],
        help="comma-separated corpus sizes (default 1000,10000)",
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=3,
        help="runs per figure; the median is reported (default 3)",
    )
    parser.add_argument("--quick", action="store_true", help="N = 300, one run each: a quick sanity check")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary folder)")
    parser.add_argument(
        "--json", type=Path, default=RESULTS, help=f"where to write results (default {RESULTS})"
    )
    parser.add_argument("--skip-messaging", action="store_true", help="only the build benchmarks")
    parser.add_argument("--skip-builds", action="store_true", help="only the newsletter benchmarks")
    parser.add_argument(
        "--delete-before",
        action="store_true",
        help="delete each tool's last output just before its cold run (as hyperfine --prepare 'rm -rf' does)",
    )
    args = parser.parse_args(argv)
    sizes = [300] if args.quick else args.sizes
    if args.skip_builds:
        sizes = []
    repeat = 1 if args.quick else args.repeat

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        work = args.work or Path(tempfile.mkdtemp(prefix="goal17-bench-"))
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--work {args.work}: {exc.strerror}")
    try:  # before the run, not after its minutes of measuring
        args.json.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        parser.error(f"--json {args.json}: {args.json.parent} is not a folder")
    except OSError as exc:
        parser.error(f"--json {args.json}: {exc.strerror}")
    try:
        return _run(args, argv, sizes, repeat, work, say)
    except KeyboardInterrupt:
        say("error: interrupted")
        return 130
    except RuntimeError as exc:  # a build that failed: its command and the end of its stderr
        say(f"error: {exc}")
        return 1
    except OSError as exc:  # a full disk, a folder removed meanwhile
        say(f"error: {exc.filename or 'bench'}: {exc.strerror}")
        return 1


def _sizes(text: str) -> list[int]:
    """``--sizes``: a comma-separated list of corpus sizes, each at least 1."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"each size must be at least 1: {text!r}")
    return sizes


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1: {text!r}")
    return number


def _run(
    args: argparse.Namespace, argv: list[str] | None, sizes: list[int], repeat: int, work: Path, say
) -> int:
    """Measure, print the table and write the JSON report."""
    started = time.time()
    bytecode = compile_bytecode(say) if sizes else {}
    try:
        builds = {size: measure_size(size, repeat, work, say, args.delete_before) for size in sizes}
        others = [] if args.skip_messaging else messaging_sections(repeat, say, quick=args.quick)
        if not args.skip_messaging:
            others += newsletter_history(repeat, say, past=50 if args.quick else 500)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "machine": machine(),
        "bytecode": bytecode,
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "repeat": repeat,
        "outputs_before_cold_runs": "deleted" if args.delete_before else "moved aside",
        "builds": [fig.summary() for figures in builds.values() for fig in figures.values() if fig.samples],
        "ratios_to_naive": {
            str(size): {
                name: round(figures[name].median / figures["naive"].median, 3)
                for name in SCENARIOS
                if name != "naive" and figures[name].samples
            }
            for size, figures in builds.items()
        },
        "ratios_to_hugo": {
            str(size): {
                name: round(figures[name].median / figures["hugo"].median, 3)
                for name in SCENARIOS
                if name != "hugo" and figures[name].samples
            }
            for size, figures in builds.items()
            if figures["hugo"].samples
        },
        "bytes_written": {str(size): counted for size, counted in written.items()},
        "targets_10k_s": TARGETS_10K,
        "other": others,
    }
    targets = verdicts(builds, others, written, LABELS)
    report["targets"] = targets
    regime = f"\n\nBefore each cold run, the last outputs were {report['outputs_before_cold_runs']}."
    text = (
        table(builds, others)
        + (regime if sizes else "")
        + "\n\nIssue 16 targets (this run):\n"
        + "\n".join(f"  {t}" for t in targets)
    )
    print(text)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
