#!/usr/bin/env bash
# The real SSSD (sssd-ldap 2.8) against ldapd, bound with an API token
# (ldap_default_bind_dn = dn=token), once over LDAPS and once over LDAP
# with StartTLS, configured as Kanidm's book configures it
# (ldap_access_filter = (memberof=idm_all_accounts@DOMAIN)):
#
#   getent passwd / group (members of a nested group included), id,
#   pamtester with the right and a wrong password, an account the access
#   filter refuses, sss_ssh_authorizedkeys, and the token destroyed while
#   sssd runs: sssd must stop answering new questions (goes offline), not
#   keep reading with a revoked token.
#
# Isolation: sssd's paths are compiled in (/etc/sssd, /var/lib/sss,
# /var/log/sssd, /run) and the NSS and PAM modules look there too, so
# everything runs in a private mount namespace (unshare -m; daemon-inner.sh)
# where those directories, /etc/nsswitch.conf and /etc/pam.d are bind mounts
# of this script's temporary directory. The host's files, its name service
# and its PAM stack are never touched.
SCRIPT_NAME=sssd-daemon
. "$(dirname "$0")/../lib.sh"
command -v sssd >/dev/null || fail "sssd not installed (interop/deps.sh)"
command -v pamtester >/dev/null || fail "pamtester not installed (interop/deps.sh)"
command -v sss_ssh_authorizedkeys >/dev/null || fail "sss_ssh_authorizedkeys not installed (sssd-common)"

start_ldapd
setup_directory

# A nested group: outer_group holds demo_group (demo_user, demo_service),
# and an SSH key on demo_user, both with plain LDAP as idm_admin.
as idm_admin "$IDM_PW" group create outer_group >/dev/null
as idm_admin "$IDM_PW" group posix outer_group >/dev/null
SSH_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOSgT1xR0dm6cVd0bR8BVA7k8S5oTr9x2TW0Y8C+interop demo_user@interop"
ldapmodify -H "$LDAPD_URL" -x -D idm_admin -w "$IDM_PW" >/dev/null <<LDIF || fail "ldapmodify"
dn: cn=outer_group,ou=groups,$BASE
changetype: modify
add: member
member: cn=demo_group,ou=groups,$BASE

dn: uid=demo_user,ou=people,$BASE
changetype: modify
add: objectClass
objectClass: ldapPublicKey
-
add: sshPublicKey
sshPublicKey: $SSH_KEY
LDIF
# late_user is looked up only after the token is revoked: sssd has nothing
# cached for it, so an answer would have to come from ldapd. The access
# filter below also names demo_group, so outsider (in no group) is refused
# while demo_user is admitted.
as idm_admin "$IDM_PW" person create late_user "Late User" >/dev/null
as idm_admin "$IDM_PW" person posix late_user >/dev/null
uid=$(as idm_admin "$IDM_PW" person get demo_user -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["uidNumber"][0])')
gid=$(as idm_admin "$IDM_PW" group get demo_group -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["gidNumber"][0])')
ogid=$(as idm_admin "$IDM_PW" group get outer_group -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["attributes"]["gidNumber"][0])')

run_mode() {
	local mode=$1 uri starttls token tokid groups
	# groups: how groups are found. The first two modes use RFC 2307bis
	# groups; "kanidm" is the group setup of Kanidm's SSSD guide verbatim:
	# every entry is a group candidate (object), found under a search base
	# with a filter, persons being their own primary groups, and group
	# members not walked.
	groups="ldap_group_nesting_level = 4
ldap_ignore_unreadable_references = true"
	case $mode in
	ldaps) uri="ldaps://localhost:$LDAPS_PORT" starttls=false ;;
	starttls) uri="ldap://localhost:$LDAP_PORT" starttls=true ;;
	kanidm)
		uri="ldaps://localhost:$LDAPS_PORT" starttls=false
		groups="ldap_group_object_class = object
ldap_group_search_base = $BASE?subtree?(|(objectClass=posixAccount)(objectClass=posixGroup))
ignore_group_members = True"
		;;
	esac
	token=$(as demo_user "$USER_PW" service-account api-token generate demo_service "sssd $mode" 2>"$WORK/gen-$mode.err")
	tokid=$(grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$WORK/gen-$mode.err" | head -n 1)
	[ -n "$tokid" ] || fail "no token id in: $(cat "$WORK/gen-$mode.err")"
	local dir=$WORK/sssd-$mode
	mkdir -p "$dir"/{etc,lib/db,lib/pipes/private,lib/mc,lib/pubconf,lib/gpo_cache,lib/keytabs,log,pam.d}
	umask 077 # sssd.conf holds the token; sssd insists on 0600 root
	cat >"$dir/etc/sssd.conf" <<CONF
[sssd]
services = nss, pam, ssh
domains = ldapd

[nss]
[pam]
[ssh]

[domain/ldapd]
id_provider = ldap
auth_provider = ldap
access_provider = ldap
chpass_provider = none
ldap_uri = $uri
ldap_id_use_start_tls = $starttls
ldap_tls_reqcert = demand
ldap_tls_cacert = $CA
ldap_schema = rfc2307bis
ldap_search_base = $BASE
ldap_default_bind_dn = dn=token
ldap_default_authtok_type = password
ldap_default_authtok = $token
ldap_access_filter = (&(memberof=idm_all_accounts@$DOMAIN)(memberof=demo_group))
$groups
ldap_user_ssh_public_key = sshPublicKey
cache_credentials = false
enumerate = false
entry_cache_timeout = 1
ldap_network_timeout = 3
ldap_opt_timeout = 5
offline_timeout = 60
CONF
	umask 022
	printf 'passwd: files sss\ngroup: files sss\nshadow: files\nhosts: files\n' >"$dir/nsswitch.conf"
	printf 'auth required pam_sss.so\naccount required pam_sss.so\n' >"$dir/pam.d/ldapd-interop"
	local before
	before=$(sha256sum /etc/nsswitch.conf /etc/pam.d/common-auth)
	tracked unshare --mount --propagation private env WORK="$WORK" DIR="$dir" MODE="$mode" USER_PW="$USER_PW" \
		OUTSIDER_PW="$OUTSIDER_PW" LDAPD="$LDAPD" IDM_PW="$IDM_PW" TOKID="$tokid" \
		bash "$(dirname "$0")/daemon-inner.sh" >"$dir/results" 2>"$dir/inner.err" || {
		cat "$dir/results" "$dir/inner.err" >&2
		tail -n 40 "$dir/log/sssd_ldapd.log" >&2 || true
		fail "sssd over $mode"
	}
	[ "$before" = "$(sha256sum /etc/nsswitch.conf /etc/pam.d/common-auth)" ] || fail "the host's nsswitch.conf or PAM stack changed"
	cat "$dir/results" >&2
	expect() {
		grep -qxF "$1" "$dir/results" || fail "$mode: missing from the answers: $1"
		log "ok ($mode): $1"
	}
	expect "passwd demo_user: demo_user:*:$uid:$uid:Demo User:/home/demo_user:/bin/bash"
	expect "group demo_group: ok $gid"
	# rfc2307bis: members come from member DNs, and sssd lists only POSIX
	# users (demo_service is not one).
	if [ "$mode" = kanidm ]; then
		# ignore_group_members: no member lists; demo_user is also its
		# own group (a user private group, Kanidm's model).
		expect "group demo_user: ok $uid"
	else
		expect "group demo_group members: demo_user"
		expect "group outer_group members: demo_user"
	fi
	grep -qE "^id demo_user: .*\b$gid\b" "$dir/results" || fail "$mode: id demo_user lacks demo_group ($gid)"
	grep -qE "^id demo_user: .*\b$ogid\b" "$dir/results" || fail "$mode: id demo_user lacks the nested outer_group ($ogid)"
	expect "passwd nosuchuser: exit 2"
	expect "pam demo_user right password: 0"
	expect "pam demo_user wrong password: fail"
	expect "pam outsider right password, refused by the access filter: fail"
	expect "ssh demo_user: $SSH_KEY"
	expect "after revocation passwd late_user: exit 2"
	if getent passwd demo_user >/dev/null; then fail "demo_user resolves outside the namespace"; fi
	if grep -qF "$token" "$WORK/ldapd.log" "$dir"/log/*.log 2>/dev/null; then fail "a log holds the token"; fi
	# ldapd refused the token on sssd's open connection or its rebind.
	grep -F "$tokid" "$WORK/ldapd.log" | grep -v '"message":"API token revoked"' | grep -q 'revoked' ||
		fail "$mode: ldapd never refused the revoked token"
}
run_mode ldaps
[ -n "${ONLY_LDAPS:-}" ] || run_mode starttls
[ -n "${ONLY_LDAPS:-}" ] || run_mode kanidm
log "PASS"
