#!/usr/bin/env bash
# nslcd (nss-pam-ldapd) against ldapd, binding with an API token:
# getent passwd and getent group answer from ldapd with the RFC 2307
# attributes ldapd allocated.
#
# Isolation: nslcd has no option for another config file or socket, so it
# runs in a private mount namespace (unshare -m; see inner.sh) where
# /etc/nslcd.conf and /etc/nsswitch.conf are bind mounts of files in this
# script's temporary directory and /run is a fresh tmpfs (nslcd's socket
# lives there, and nscd's socket, if any, is hidden). The machine's own
# files, its /run and its name service are never touched; the mounts vanish
# with the namespace when nslcd and getent exit.
SCRIPT_NAME=nslcd
. "$(dirname "$0")/../lib.sh"
command -v nslcd >/dev/null || fail "nslcd not installed (interop/deps.sh)"
[ -e /etc/nslcd.conf ] || fail "/etc/nslcd.conf missing: the bind mount needs a file to cover (reinstall nslcd)"
id nslcd >/dev/null 2>&1 || fail "no nslcd user (reinstall nslcd)"

start_ldapd
setup_directory

mkdir -p "$WORK/nslcd"
umask 077 # nslcd.conf holds the token
cat >"$WORK/nslcd/nslcd.conf" <<CONF
uid nslcd
gid nslcd
uri ldaps://localhost:$LDAPS_PORT/
base $BASE
base passwd ou=people,$BASE
base group ou=groups,$BASE
binddn dn=token
bindpw $TOKEN
tls_reqcert demand
tls_cacertfile $CA
pagesize 2
CONF
umask 022
cat >"$WORK/nslcd/nsswitch.conf" <<CONF
passwd: files ldap
group:  files ldap
shadow: files
hosts:  files
CONF
chmod 644 "$WORK/nslcd/nsswitch.conf"
before=$(sha256sum /etc/nsswitch.conf /etc/nslcd.conf)

tracked unshare --mount --propagation private bash "$(dirname "$0")/inner.sh" "$WORK" >"$WORK/nslcd/results" || {
	cat "$WORK/nslcd/results" >&2
	tail -n 30 "$WORK/nslcd/nslcd.log" >&2 || true
	fail "getent through nslcd"
}
after=$(sha256sum /etc/nsswitch.conf /etc/nslcd.conf)
[ "$before" = "$after" ] || fail "the machine's /etc/nsswitch.conf or /etc/nslcd.conf changed"
if getent passwd demo_user >/dev/null; then fail "demo_user resolves outside the namespace"; fi
cat "$WORK/nslcd/results" >&2

# Check the answers against what ldapd allocated. The password field is "*":
# nobody may read userPassword over LDAP.
uid=$(as idm_admin "$IDM_PW" person get demo_user -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["uidNumber"][0])')
gid=$(as idm_admin "$IDM_PW" group get demo_group -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["gidNumber"][0])')
expect() {
	grep -qxF "$1" "$WORK/nslcd/results" || fail "missing from getent's answers: $1"
	log "ok: $1"
}
expect "passwd demo_user: demo_user:*:$uid:$uid:Demo User:/home/demo_user:/bin/bash"
expect "passwd $uid: demo_user:*:$uid:$uid:Demo User:/home/demo_user:/bin/bash"
expect "group demo_group: demo_group:*:$gid:demo_user,demo_service"
expect "group $gid: demo_group:*:$gid:demo_user,demo_service"
expect "initgroups demo_user: $uid $gid"
expect "enumerate passwd: 2"
expect "enumerate group: 1"
grep -q "^passwd outsider: outsider:\*:" "$WORK/nslcd/results" || fail "outsider not listed"
grep -q "^passwd nosuchuser: exit 2$" "$WORK/nslcd/results" || fail "an unknown user must not resolve"
if grep -qF "$TOKEN" "$WORK/nslcd/nslcd.log" "$WORK/ldapd.log"; then fail "a log holds the token"; fi
log "PASS"
