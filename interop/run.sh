#!/usr/bin/env bash
# make interop: run every client's script (or those named as arguments),
# each under a timeout (INTEROP_TIMEOUT seconds, default 300), against the
# built binary (LDAPD, default bin/ldapd). Exits non-zero if any fails.
set -uo pipefail
cd "$(dirname "$0")"
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(apache nslcd python sssd php perl dovecot node java)
limit=${INTEROP_TIMEOUT:-300}
failed=()
for c in "${clients[@]}"; do
	[ -x "$c/run.sh" ] || { echo "interop: no client $c" >&2; failed+=("$c"); continue; }
	echo "=== interop $c" >&2
	start=$SECONDS
	if timeout --kill-after=10 "$limit" "./$c/run.sh"; then
		echo "=== interop $c: PASS ($((SECONDS - start)) s)" >&2
	else
		rc=$?
		[ "$rc" = 124 ] && echo "interop $c: timed out after $limit s" >&2
		echo "=== interop $c: FAIL (exit $rc)" >&2
		failed+=("$c")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "interop: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "interop: all passed: ${clients[*]}" >&2
