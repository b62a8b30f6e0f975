#!/usr/bin/env bash
# Node's ldapts (clients.mjs) and ldapjs (ldapjs.cjs) against ldapd with a
# token bind, over LDAPS and StartTLS. interop/deps.sh installs ldapts into interop/node with npm.
SCRIPT_NAME=node
. "$(dirname "$0")/../lib.sh"
command -v node >/dev/null || fail "node not installed"
[ -d "$(dirname "$0")/node_modules/ldapts" ] && [ -d "$(dirname "$0")/node_modules/ldapjs" ] ||
	fail "ldapts or ldapjs not installed (interop/deps.sh)"
start_ldapd
setup_directory
for mode in ldaps starttls; do
	port=$LDAPS_PORT
	[ "$mode" = starttls ] && port=$LDAP_PORT
	MODE=$mode PORT=$port tracked node "$(dirname "$0")/clients.mjs" >"$WORK/node-$mode.out" 2>&1 || {
		cat "$WORK/node-$mode.out" >&2
		fail "ldapts over $mode"
	}
	sed "s/^/node ($mode): /" "$WORK/node-$mode.out" >&2
	MODE=$mode PORT=$port tracked node "$(dirname "$0")/ldapjs.cjs" >"$WORK/ldapjs-$mode.out" 2>&1 || {
		cat "$WORK/ldapjs-$mode.out" >&2
		fail "ldapjs over $mode"
	}
	sed "s/^/ldapjs ($mode): /" "$WORK/ldapjs-$mode.out" >&2
done
log "PASS"
