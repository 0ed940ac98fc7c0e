"""Issue 16's targets, judged on the figures of one ``python -m bench`` run.

Kept apart from the runner (:mod:`bench.run`) so that the list of targets and the rule for each
can be read in one place.
"""

from __future__ import annotations

# Issue 16 at 10k: cold ≤ Hugo in the same run, no change/edit/add ≤ 1 s, ≤ 250 MB written.
TARGETS_10K = {"cold": "≤ hugo", "nochange": 1.0, "edit": 1.0, "add": 1.0, "bytes_mb": 250}


def verdicts(builds: dict[int, dict], others: list[dict], written: dict, labels: dict[str, str]) -> list[str]:
    """Issue 16's targets, each with the figure measured in this run and whether it is met.

    Only at N = 10,000 (the size the targets are set for); a figure not measured in this run
    (no Hugo, ``--skip-messaging``) is said to be missing, never assumed.
    """
    lines: list[str] = []
    figures = builds.get(10_000)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if figures is not None:
        cold, hugo, naive = figures["cold"], figures["hugo"], figures["naive"]
        if hugo.samples:
            ratio = cold.median / hugo.median
            lines.append(
                f"cold build ≤ Hugo in the same run: {cold.median:.2f} s vs {hugo.median:.2f} s "
                f"= {ratio:.2f}× Hugo ({cold.median / naive.median:.2f}× naive): {verdict(ratio <= 1)}"
            )
        else:
            lines.append("cold build ≤ Hugo: not measured (no `hugo` on PATH)")
        lines.append(
            f"cold build peak RSS ≤ 400 MiB: {cold.peak_rss_mib:.0f} MiB: {verdict(cold.peak_rss_mib <= 400)}"
        )
        for name in ("nochange", "edit", "add"):
            fig = figures[name]
            limit = TARGETS_10K[name]
            lines.append(f"{labels[name]} ≤ {limit:g} s: {fig.median:.2f} s: {verdict(fig.median <= limit)}")
        if 10_000 in written:
            mb = written[10_000]["goal17"]["du_sb"] / 1e6
            lines.append(
                f"bytes written ≤ {TARGETS_10K['bytes_mb']} MB (du -sb): {mb:.1f} MB: "
                f"{verdict(mb <= TARGETS_10K['bytes_mb'])}"
            )
    else:
        lines.append("build targets: not measured (they are set at N = 10,000: --sizes 10000)")
    by_name = {item["name"]: item for item in others if item.get("measured")}
    dkim = next((v for k, v in by_name.items() if k.startswith("messages/s with DKIM")), None)
    if dkim is not None:
        lines.append(
            f"DKIM ≥ 1,000 signed messages/s on one core: {dkim['median']:,.0f}/s: {verdict(dkim['median'] >= 1000)}"
        )
    else:
        lines.append("DKIM ≥ 1,000 messages/s: not measured in this run")
    history = next((v for k, v in by_name.items() if k.startswith("next newsletter issue")), None)
    if history is not None:
        lines.append(
            f"next newsletter issue with 500 past issues ≤ 1 s: {history['median']:.2f} s: "
            f"{verdict(history['median'] <= 1)}"
        )
    else:
        lines.append("newsletter with 500 past issues ≤ 1 s: not measured in this run")
    return lines
