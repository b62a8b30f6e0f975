#!/usr/bin/env bash
# Runs inside the private mount namespace made by run.sh (unshare -m):
# cover the system's nslcd.conf, nsswitch.conf and /run with our own, start
# nslcd, ask getent, stop nslcd by its PID. Prints one line per question:
# "QUERY KEY: ANSWER" (or "QUERY KEY: exit N").
set -euo pipefail
WORK=$1
mount --bind "$WORK/nslcd/nslcd.conf" /etc/nslcd.conf
mount --bind "$WORK/nslcd/nsswitch.conf" /etc/nsswitch.conf
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/nslcd
chown nslcd:nslcd /run/nslcd
nslcd -d 2>"$WORK/nslcd/nslcd.log" &
pid=$!
echo "$pid" >"$WORK/pids/nslcd" # run.sh's cleanup kills it too if this shell is killed
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
for ((i = 0; i < 100; i++)); do
	[ -S /run/nslcd/socket ] && break
	sleep 0.1
done
[ -S /run/nslcd/socket ] || { echo "nslcd did not start" >&2; exit 1; }
ask() {
	local out rc=0
	out=$(getent "$1" "$2") || rc=$?
	if [ "$rc" = 0 ]; then echo "$1 $2: $out"; else echo "$1 $2: exit $rc"; fi
}
uid=$(getent passwd demo_user | cut -d: -f3 || true)
gid=$(getent group demo_group | cut -d: -f3 || true)
ask passwd demo_user
ask passwd "${uid:-none}"
ask passwd outsider
ask passwd nosuchuser
ask group demo_group
ask group "${gid:-none}"
# Enumeration (nslcd pages it: pagesize in nslcd.conf).
echo "enumerate passwd: $(getent passwd | grep -c -e '^demo_user:' -e '^outsider:')"
echo "enumerate group: $(getent group | grep -c '^demo_group:')"
# id: the primary group, then the groups nslcd finds by memberUid/member.
echo "initgroups demo_user: $(id -G demo_user 2>&1)"
