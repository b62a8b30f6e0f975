#!/usr/bin/env bash
# PHP's ldap extension against ldapd with a token bind, over LDAPS and
# StartTLS: Nextcloud-style search-then-bind and WordPress-style rebind
# (clients.php).
SCRIPT_NAME=php
. "$(dirname "$0")/../lib.sh"
command -v php >/dev/null || fail "php not installed (interop/deps.sh)"
php -m | grep -qx ldap || fail "php-ldap not installed (interop/deps.sh)"
start_ldapd
setup_directory
for mode in ldaps starttls; do
	case $mode in
	ldaps) uri="ldaps://localhost:$LDAPS_PORT" starttls=0 ;;
	starttls) uri="ldap://localhost:$LDAP_PORT" starttls=1 ;;
	esac
	URI=$uri STARTTLS=$starttls tracked php "$(dirname "$0")/clients.php" >"$WORK/php-$mode.out" || {
		cat "$WORK/php-$mode.out" >&2
		fail "php over $mode"
	}
	sed "s/^/php ($mode): /" "$WORK/php-$mode.out" >&2
done
log "PASS"
