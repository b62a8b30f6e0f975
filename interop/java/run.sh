#!/usr/bin/env bash
# Java's JNDI LDAP provider against ldapd with a token bind, over LDAPS and
# StartTLS, with the paged results control (Clients.java, run as a
# single-file source program; the generated CA goes into a PKCS12 trust
# store in the temporary directory).
SCRIPT_NAME=java
. "$(dirname "$0")/../lib.sh"
command -v java >/dev/null || fail "java not installed"
command -v keytool >/dev/null || fail "keytool not installed"
start_ldapd
setup_directory
keytool -importcert -noprompt -alias ldapd -file "$CA" -keystore "$WORK/trust.p12" -storetype PKCS12 -storepass interop >/dev/null 2>&1 ||
	fail "keytool could not import the CA"
for mode in ldaps starttls; do
	port=$LDAPS_PORT
	[ "$mode" = starttls ] && port=$LDAP_PORT
	MODE=$mode PORT=$port tracked java -Djavax.net.ssl.trustStore="$WORK/trust.p12" -Djavax.net.ssl.trustStorePassword=interop \
		-Djavax.net.ssl.trustStoreType=PKCS12 "$(dirname "$0")/Clients.java" >"$WORK/java-$mode.out" 2>&1 || {
		cat "$WORK/java-$mode.out" >&2
		fail "JNDI over $mode"
	}
	sed "s/^/java ($mode): /" "$WORK/java-$mode.out" >&2
done
log "PASS"
