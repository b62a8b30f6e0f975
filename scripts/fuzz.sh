#!/usr/bin/env bash
# Run every native Go fuzz target in the module for a bounded time each.
# Usage: scripts/fuzz.sh [FUZZTIME]   (default 10s)
# Targets are found in the sources (func FuzzXxx in *_test.go), so only
# the packages that have one are compiled.
#
# Go 1.26's fuzz coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" and no failing input (go.dev/issue/75804,
# fixed in Go 1.27). Such a run is reported and not counted as a failure;
# any other failure, and any run that writes a reproducer under
# testdata/fuzz/, fails the script.
set -euo pipefail
fuzztime="${1:-10s}"
cd "$(dirname "$0")/.."
failed=0
for dir in $(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | xargs -n1 dirname | sort -u); do
  for target in $(grep -h -o -E '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "== $dir $target ($fuzztime)"
    corpus="$dir/testdata/fuzz/$target"
    before=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
    log=$(mktemp)
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir" 2>&1 | tee "$log"; then
      rm -f "$log"
      continue
    fi
    after=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
    if [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log"; then
      echo "== $target: ended by the Go fuzz coordinator's deadline race (go.dev/issue/75804), no failing input: not a failure"
    else
      echo "== $target FAILED (new inputs in $corpus: $((after - before)))"
      failed=1
    fi
    rm -f "$log"
  done
done
exit $failed
