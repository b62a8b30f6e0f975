#!/usr/bin/env bash
# Runs inside the private mount namespace made by daemon.sh: cover sssd's
# directories, nsswitch.conf and /etc/pam.d with our own, start sssd, ask
# NSS, PAM and the ssh responder, destroy the token, ask again; stop sssd
# by its PID. Prints one line per question: "WHAT: ANSWER".
set -euo pipefail
mount --bind "$DIR/etc" /etc/sssd
mount --bind "$DIR/lib" /var/lib/sss
mount --bind "$DIR/log" /var/log/sssd
mount --bind "$DIR/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$DIR/pam.d" /etc/pam.d
mount -t tmpfs -o mode=755 tmpfs /run
chown root:root /etc/sssd/sssd.conf
chmod 600 /etc/sssd/sssd.conf
sssd -i --logger=files -d 0x0270 &
pid=$!
echo "$pid" >"$WORK/pids/sssd-$MODE" # daemon.sh's cleanup kills it too if this shell is killed
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
for ((i = 0; i < 150; i++)); do
	[ -S /var/lib/sss/pipes/nss ] && [ -S /var/lib/sss/pipes/pam ] && getent passwd demo_user >/dev/null 2>&1 && break
	sleep 0.2
done
ask() {
	local out rc=0
	out=$(getent "$1" "$2") || rc=$?
	if [ "$rc" = 0 ]; then echo "$1 $2: $out"; else echo "$1 $2: exit $rc"; fi
}
members() { getent group "$1" | cut -d: -f4 | tr , '\n' | sort | paste -sd, -; }
ask passwd demo_user
ask passwd nosuchuser
echo "group demo_group: $(getent group demo_group >/dev/null && echo ok) $(getent group demo_group | cut -d: -f3)"
echo "group demo_group members: $(members demo_group)"
echo "group demo_user: $(getent group demo_user >/dev/null && echo ok) $(getent group demo_user | cut -d: -f3)"
echo "group outer_group members: $(members outer_group)"
echo "id demo_user: $(id -G demo_user 2>&1)"
pam() { printf '%s\n' "$2" | timeout 20 pamtester ldapd-interop "$1" authenticate acct_mgmt >/dev/null 2>&1 && echo 0 || echo fail; }
echo "pam demo_user right password: $(pam demo_user "$USER_PW")"
echo "pam demo_user wrong password: $(pam demo_user "not-$USER_PW")"
echo "pam outsider right password, refused by the access filter: $(pam outsider "$OUTSIDER_PW")"
echo "ssh demo_user: $(sss_ssh_authorizedkeys demo_user 2>&1)"
# Revoke the token sssd binds with, while it runs; late_user has never been
# looked up, so an answer would have to come from ldapd.
LDAPD_PASSWORD=$IDM_PW "$LDAPD" service-account api-token destroy demo_service "$TOKID" --name idm_admin >/dev/null
sleep 2
ask passwd late_user | sed 's/^/after revocation /'
