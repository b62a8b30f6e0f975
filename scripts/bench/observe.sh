#!/usr/bin/env bash
# What observability costs: ldapd's server CPU per operation (WhoAmI and
# indexed search) in three configurations, same data, same client:
#
#   quiet    --log-level warn (no access log), no --metrics
#   info     the default log level (one access line per operation)
#   shipped  the default log level and --metrics
#
#   scripts/bench/observe.sh                 # N=10000 entries, C=16, 3 runs of 5 s
#   N=1000 RUNS=1 DUR=2s scripts/bench/observe.sh
#   OLD=main CONFIGS="info@old info shipped@old shipped" scripts/bench/observe.sh
#
# With OLD (a git revision), a configuration written CONFIG@old runs the
# ldapd built from that revision instead, interleaved with this tree's in
# the same runs, so that a before/after comparison shares the machine's
# load (the data file is written by this tree's ldapd).
#
# The server is pinned to CPU 0 and ldapload to CPU 1 (taskset), as in
# run.sh; the access log goes to a file. Prints one line per run and the
# median per configuration and mode. Not part of make test or make bench.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-10000}
RUNS=${RUNS:-3}
DUR=${DUR:-5s}
C=${C:-16}
MODES=${MODES:-"whoami search-eq"}
CONFIGS=${CONFIGS:-"quiet info shipped"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE="dc=idm,dc=example,dc=com"

log() { echo "observe: $*" >&2; }

T=$(mktemp -d /tmp/ldapd-observe.XXXXXX)
PID=""
cleanup() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT

go build -o "$T/ldapd" ./cmd/ldapd
if [ -n "${OLD:-}" ]; then
	mkdir "$T/old-src"
	git archive "$OLD" | tar -x -C "$T/old-src"
	(cd "$T/old-src" && go build -o "$T/ldapd-old" ./cmd/ldapd)
fi
go build -o "$T/ldapload" ./cmd/ldapload
go run ./scripts/bench/genldif -n "$N" -base "$BASE" -w secret >"$T/people.ldif"
D=$T/data
"$T/ldapd" import -q --data "$D" --domain idm.example.com "$T/people.ldif" >/dev/null
IDM_PW=$("$T/ldapd" recover-account idm_admin --data "$D" 2>/dev/null | tail -1)
ADMIN_PW=$("$T/ldapd" recover-account admin --data "$D" 2>/dev/null | tail -1)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LDAP=$(free_port); LDAPS=$(free_port); METRICS=$(free_port)

start() { # config[@old]
	local extra=() bin=$T/ldapd
	case $1 in *@old) bin=$T/ldapd-old ;; esac
	case ${1%@old} in
	quiet) extra=(--log-level warn) ;;
	info) ;;
	shipped) extra=(--metrics "127.0.0.1:$METRICS") ;;
	esac
	taskset -c "$SERVER_CPU" "$bin" serve --data "$D" --ldap "127.0.0.1:$LDAP" --ldaps "127.0.0.1:$LDAPS" \
		--allow-insecure-bind --log-format json "${extra[@]}" >>"$T/ldapd.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$LDAPS") 2>/dev/null && break; sleep 0.1; done
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }

start quiet
cli() { LDAPD_PASSWORD=$1 "$T/ldapd" "${@:2}" --url "ldaps://127.0.0.1:$LDAPS" --ca "$D/tls/ca.pem"; }
cli "$IDM_PW" service-account create bench "Benchmark" idm_admins --name idm_admin >/dev/null
cli "$ADMIN_PW" group add-members idm_people_pii_read bench --name admin >/dev/null
TOKEN=$(cli "$IDM_PW" service-account api-token generate bench "bench" --rw --name idm_admin 2>/dev/null)
stop

: >"$T/results"
for run in $(seq "$RUNS"); do
	for cfg in $CONFIGS; do
		start "$cfg"
		for mode in $MODES; do
			us=$(taskset -c "$CLIENT_CPU" "$T/ldapload" -url "ldap://127.0.0.1:$LDAP" -mode "$mode" -token "$TOKEN" \
				-d "$DUR" -c "$C" -n "$N" -b "$BASE" -pid "$PID" |
				python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["server_cpu_us_per_op"] if r["errors"]==0 else "errors")')
			log "run $run $cfg $mode: $us us/op"
			echo "$cfg $mode $us" >>"$T/results"
		done
		stop
	done
done
python3 - "$T/results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    cfg, mode, us = line.split()
    rows.setdefault((cfg, mode), []).append(float(us))
print("| config | mode | server CPU us/op (median) | runs |")
print("|---|---|---|---|")
for (cfg, mode), v in rows.items():
    print(f"| {cfg} | {mode} | {statistics.median(v):.1f} | {', '.join(f'{x:.1f}' for x in v)} |")
EOF
