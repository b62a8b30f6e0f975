#!/usr/bin/env bash
# Perl's Net::LDAP against ldapd with a token bind, over LDAPS and StartTLS
# (clients.pl).
SCRIPT_NAME=perl
. "$(dirname "$0")/../lib.sh"
perl -MNet::LDAP -e1 2>/dev/null || fail "Net::LDAP not installed (interop/deps.sh)"
start_ldapd
setup_directory
for mode in ldaps starttls; do
	port=$LDAPS_PORT
	[ "$mode" = starttls ] && port=$LDAP_PORT
	MODE=$mode PORT=$port tracked perl "$(dirname "$0")/clients.pl" >"$WORK/perl-$mode.out" || {
		cat "$WORK/perl-$mode.out" >&2
		fail "Net::LDAP over $mode"
	}
	sed "s/^/perl ($mode): /" "$WORK/perl-$mode.out" >&2
done
log "PASS"
