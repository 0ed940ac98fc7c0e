#!/usr/bin/env bash
# Usage: tools/outputs_proof.sh OLD_TREE NEW_TREE
# Proof that a refactoring changed no output: builds the example content (a build, a newsletter
# issue and its preview, a second build, a cold --no-cache build) and a 2,000-update benchmark
# corpus with each tree's code, with the same clock, then compares every file with diff -r.
# A tree is a checkout (e.g. `git worktree add /tmp/old c15f39b`); its .venv is used if it has
# one, else this checkout's. Exit 0 and "identical" when nothing differs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build() {  # TREE DEST
  local tree dest py
  tree=$(cd "$1" && pwd); dest=$2
  rm -rf "$dest"; mkdir -p "$dest"
  py=$tree/.venv/bin/python; [ -x "$py" ] || py=$here/.venv/bin/python
  cp -r "$tree/content" "$dest/content"; cp "$tree/site.toml" "$tree/schedule.toml" "$dest/"
  (
    cd "$dest"
    export PYTHONPATH=$tree GOAL17_SECRET=proof-secret-0123456789abcdefghijklmnopqrstuvwxyz
    unset GOAL17_DATABASE_URL GOAL17_CONFIG
    "$py" -m pipeline build --now 2026-11-20T10:00 -q --out site
    "$py" -m pipeline newsletter build --now 2026-11-20T10:05 -q --out site
    "$py" -m pipeline newsletter preview --now 2026-11-20T10:06 -q --out site >/dev/null
    "$py" -m pipeline build --now 2026-11-27T10:00 -q --out site
    "$py" -m pipeline build --now 2026-11-27T10:00 -q --out site-cold --no-cache
    "$py" -c "from bench.corpus import write_corpus; write_corpus('corpus2k', 2000)"
    "$py" -m pipeline build --content corpus2k --now 2026-11-20T10:00 -q --out site2k
  )
}
work=$(mktemp -d)
build "$1" "$work/old"
build "$2" "$work/new"
if diff -r -q -x .state -x site.toml -x schedule.toml "$work/old" "$work/new"; then
  echo "identical: every output of both trees ($(find "$work/new" -type f -not -path '*/.state/*' | wc -l) files)"
  rm -rf "$work"
else
  echo "outputs differ (kept in $work)"; exit 1
fi
