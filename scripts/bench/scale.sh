#!/usr/bin/env bash
# make bench-1m: the large-directory table (docs/performance-1m.md) and how
# ldapd's cost per operation grows from 10,000 to 1,000,000 entries, both
# measured in one invocation so the two sizes meet the same machine load.
#
#   scripts/bench/scale.sh                      # 10k then 1M, 3 runs of 5 s
#   SMALL=10000 LARGE=100000 scripts/bench/scale.sh
#
# It runs scripts/bench/run.sh twice with MODES (default: token bind and the
# indexed search): first at SMALL entries into a temporary report, then at
# LARGE into docs/performance-1m.{json,md}, and appends to that document a
# table of CPU per operation at LARGE over SMALL, for ldapd and slapd. On
# this 2-core machine the whole thing takes 10-15 minutes at 1M.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

SMALL=${SMALL:-10000}
LARGE=${LARGE:-1000000}
export MODES=${MODES:-tokenbind search-eq}
export RUNS=${RUNS:-3} DUR=${DUR:-5s} C=${C:-64}
OUT=${OUT:-$ROOT/docs/performance-1m.json}
DOC=${DOC:-$ROOT/docs/performance-1m.md}

T=$(mktemp -d /tmp/ldapd-scale.XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "scale: $SMALL entries" >&2
N=$SMALL OUT=$T/small.json DOC=$T/small.md "$ROOT/scripts/bench/run.sh"
echo "scale: $LARGE entries" >&2
# One import of each at LARGE (a minute or more each; IMPORT_RUNS to change).
N=$LARGE OUT=$OUT DOC=$DOC IMPORT_RUNS=${IMPORT_RUNS:-1} "$ROOT/scripts/bench/run.sh"

python3 "$ROOT/scripts/bench/scale.py" --small "$T/small.json" --large "$OUT" \
	--command "SMALL=$SMALL LARGE=$LARGE MODES=\"$MODES\" RUNS=$RUNS DUR=$DUR C=$C make bench-1m" >>"$DOC"
