#!/usr/bin/env bash
# Apache httpd with mod_authnz_ldap against ldapd, binding with an API token:
# curl -u gets 200 for a member of demo_group with the right password, 401
# for a wrong password and for a non-member.
SCRIPT_NAME=apache
. "$(dirname "$0")/../lib.sh"
command -v apache2 >/dev/null || fail "apache2 not installed (interop/deps.sh)"
MODULES=/usr/lib/apache2/modules

start_ldapd
setup_directory

HTTP_PORT=$(free_port)
mkdir -p "$WORK/httpd/htdocs/private"
echo "secret page" >"$WORK/httpd/htdocs/private/index.html"
chmod -R a+rX "$WORK/httpd"
# The bind password is the token: keep the config owner-only.
umask 077
cat >"$WORK/httpd/httpd.conf" <<CONF
ServerRoot "$WORK/httpd"
ServerName localhost
Listen 127.0.0.1:$HTTP_PORT
PidFile "$WORK/httpd/httpd.pid"
ErrorLog "$WORK/httpd/error.log"
LogLevel warn authnz_ldap:debug ldap:debug
DocumentRoot "$WORK/httpd/htdocs"
User www-data
Group www-data
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule auth_basic_module $MODULES/mod_auth_basic.so
LoadModule ldap_module $MODULES/mod_ldap.so
LoadModule authnz_ldap_module $MODULES/mod_authnz_ldap.so
LoadModule dir_module $MODULES/mod_dir.so
DirectoryIndex index.html

# Trust ldapd's generated CA; check the server's certificate.
LDAPTrustedGlobalCert CA_BASE64 "$CA"
LDAPVerifyServerCert On
# No cache, so that each request asks ldapd (a wrong password is never served from cache).
LDAPCacheTTL 0
LDAPOpCacheTTL 0

<Directory "$WORK/httpd/htdocs">
    Require all granted
</Directory>
<Location "/private">
    AuthType Basic
    AuthName "ldapd"
    AuthBasicProvider ldap
    AuthLDAPURL "ldaps://localhost:$LDAPS_PORT/ou=people,$BASE?uid"
    AuthLDAPBindDN "dn=token"
    AuthLDAPBindPassword "$TOKEN"
    Require ldap-group cn=demo_group,ou=groups,$BASE
</Location>
CONF
umask 022
/usr/sbin/apache2 -f "$WORK/httpd/httpd.conf" -t 2>"$WORK/httpd/configtest.log" || { cat "$WORK/httpd/configtest.log" >&2; fail "apache config test"; }
/usr/sbin/apache2 -f "$WORK/httpd/httpd.conf" -DFOREGROUND &
track $!
wait_for curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/" || fail "apache did not start"
log "apache (pid ${PIDS[-1]}) on http://127.0.0.1:$HTTP_PORT"

status() { curl -s -o /dev/null -w '%{http_code}' -u "$1" "http://127.0.0.1:$HTTP_PORT/private/"; }
check() {
	local want=$1 who=$2 got
	got=$(status "$3")
	if [ "$got" != "$want" ]; then
		tail -n 30 "$WORK/httpd/error.log" >&2
		fail "$who: HTTP $got, want $want"
	fi
	log "ok: $who -> $got"
}
check 200 "demo_user, right password (member of demo_group)" "demo_user:$USER_PW"
check 401 "demo_user, wrong password" "demo_user:wrong-$USER_PW"
check 401 "outsider, right password (not a member)" "outsider:$OUTSIDER_PW"
check 401 "unknown user" "nobody:whatever"
check 200 "demo_user again (connection reuse)" "demo_user:$USER_PW"
curl -s -u "demo_user:$USER_PW" "http://127.0.0.1:$HTTP_PORT/private/" | grep -q "secret page" || fail "page body"
# The token bound: ldapd logged binds as demo_service (token), never the token.
grep -q 'demo_service' "$WORK/ldapd.log" || fail "no token bind in the ldapd log"
if grep -qF "$TOKEN" "$WORK/ldapd.log" "$WORK/httpd/error.log"; then fail "a log holds the token"; fi
log "PASS"
