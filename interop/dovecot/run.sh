#!/usr/bin/env bash
# Dovecot's LDAP passdb and userdb against ldapd: the passdb finds the
# user with the API token (dn=token) and checks the password by binding as
# the user (auth_bind = yes); the userdb reads home, uid and gid. Over
# LDAPS and over StartTLS; asked with doveadm auth test and doveadm user.
#
# Isolation: dovecot runs with its own configuration file (-c), base_dir
# and log in this script's temporary directory, listening on no port
# (protocols = none); only doveadm talks to it, over its auth socket there.
SCRIPT_NAME=dovecot
. "$(dirname "$0")/../lib.sh"
command -v dovecot >/dev/null || fail "dovecot not installed (interop/deps.sh)"
ls /usr/lib/dovecot/modules/auth/libauthdb_ldap.so >/dev/null 2>&1 || fail "dovecot-ldap not installed (interop/deps.sh)"
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || fail "no dovecot/dovenull users (reinstall dovecot-core)"
start_ldapd
setup_directory
uid=$(as idm_admin "$IDM_PW" person get demo_user -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["uidNumber"][0])')

for mode in ldaps starttls; do
	dir=$WORK/dovecot-$mode
	mkdir -p "$dir/run"
	case $mode in
	ldaps) uris="ldaps://localhost:$LDAPS_PORT" tls=no ;;
	starttls) uris="ldap://localhost:$LDAP_PORT" tls=yes ;;
	esac
	umask 077 # the ldap file holds the token
	cat >"$dir/ldap.conf.ext" <<CONF
uris = $uris
tls = $tls
tls_ca_cert_file = $CA
tls_require_cert = demand
dn = dn=token
dnpass = $TOKEN
auth_bind = yes
base = ou=people,$BASE
scope = onelevel
user_filter = (&(objectClass=posixAccount)(uid=%u))
pass_filter = (&(objectClass=posixAccount)(uid=%u))
user_attrs = homeDirectory=home,uidNumber=uid,gidNumber=gid
iterate_attrs = uid=user
iterate_filter = (objectClass=posixAccount)
CONF
	cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/run
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = none
ssl = no
auth_mechanisms = plain
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = ldap
  args = $dir/ldap.conf.ext
}
userdb {
  driver = ldap
  args = $dir/ldap.conf.ext
}
CONF
	umask 022
	chmod 644 "$dir/dovecot.conf"
	dovecot -F -c "$dir/dovecot.conf" &
	pid=$!
	track "$pid"
	wait_for test -S "$dir/run/auth-userdb" || fail "dovecot did not start: $(tail -n 5 "$dir/dovecot.log" 2>/dev/null)"
	doveadm -c "$dir/dovecot.conf" auth test -x service=imap demo_user "$USER_PW" >"$dir/right" 2>&1 || {
		cat "$dir/right" "$dir/dovecot.log" >&2
		fail "$mode: right password refused"
	}
	log "ok ($mode): doveadm auth test demo_user with the right password"
	if doveadm -c "$dir/dovecot.conf" auth test -x service=imap demo_user "wrong-$USER_PW" >"$dir/wrong" 2>&1; then
		fail "$mode: wrong password accepted"
	fi
	log "ok ($mode): wrong password refused"
	if doveadm -c "$dir/dovecot.conf" auth test -x service=imap nosuchuser "$USER_PW" >/dev/null 2>&1; then
		fail "$mode: unknown user accepted"
	fi
	log "ok ($mode): unknown user refused"
	doveadm -c "$dir/dovecot.conf" user -f uid demo_user >"$dir/uid" 2>&1 || { cat "$dir/uid" >&2; fail "$mode: userdb lookup"; }
	doveadm -c "$dir/dovecot.conf" user -f home demo_user >"$dir/home" 2>&1 || { cat "$dir/home" >&2; fail "$mode: userdb lookup"; }
	[ "$(cat "$dir/uid")" = "$uid" ] || { cat "$dir/uid" >&2; fail "$mode: userdb uid"; }
	[ "$(cat "$dir/home")" = /home/demo_user ] || { cat "$dir/home" >&2; fail "$mode: userdb home"; }
	log "ok ($mode): doveadm user demo_user (userdb): uid $uid, home /home/demo_user"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	if grep -qF "$TOKEN" "$dir/dovecot.log" "$WORK/ldapd.log"; then fail "a log holds the token"; fi
done
log "PASS"
