#!/usr/bin/env bash
# Install the Debian packages the interop scripts drive: Apache httpd
# (mod_authnz_ldap ships with apache2), nslcd and its NSS module, SSSD with
# its LDAP provider, NSS and PAM modules and pamtester, PHP's ldap
# extension, Perl's Net::LDAP, Dovecot with its LDAP auth module, Node's
# ldapts and ldapjs (npm, into interop/node), a JDK (JNDI), the two
# Python LDAP libraries, curl and ldap-utils. Runs as root with no standard
# input (CI). The packages are installed without touching the machine's own
# name service: libnss-ldapd is told to add "ldap" to no nsswitch.conf
# database, and no daemon is started by the install (a temporary
# policy-rc.d refuses, unless one is already in place). /etc/nsswitch.conf
# is compared before and after, and the install fails if it changed.
# libnss-sss and libpam-sss add sss to nsswitch.conf and pam_sss to the
# common PAM stack in their postinst; both are put back byte for byte (the
# interop scripts use SSSD only inside a private mount namespace).
set -euo pipefail
need=()
command -v apache2 >/dev/null 2>&1 || need+=(apache2)
command -v nslcd >/dev/null 2>&1 || need+=(nslcd)
[ -e /usr/lib/x86_64-linux-gnu/libnss_ldap.so.2 ] || ls /lib/*/libnss_ldap.so.2 >/dev/null 2>&1 || need+=(libnss-ldapd)
/usr/bin/python3 -c 'import ldap3' >/dev/null 2>&1 || need+=(python3-ldap3)
/usr/bin/python3 -c 'import ldap' >/dev/null 2>&1 || need+=(python3-ldap)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v sssd >/dev/null 2>&1 || need+=(sssd-ldap sssd-common)
[ -e /usr/lib/x86_64-linux-gnu/libnss_sss.so.2 ] || ls /lib/*/libnss_sss.so.2 >/dev/null 2>&1 || need+=(libnss-sss)
ls /lib/*/security/pam_sss.so /usr/lib/*/security/pam_sss.so >/dev/null 2>&1 || need+=(libpam-sss)
command -v pamtester >/dev/null 2>&1 || need+=(pamtester)
command -v php >/dev/null 2>&1 || need+=(php-cli)
php -m 2>/dev/null | grep -qx ldap || need+=(php-ldap)
perl -MNet::LDAP -e1 >/dev/null 2>&1 || need+=(libnet-ldap-perl libio-socket-ssl-perl)
command -v doveadm >/dev/null 2>&1 || need+=(dovecot-core)
ls /usr/lib/dovecot/modules/auth/libauthdb_ldap.so >/dev/null 2>&1 || need+=(dovecot-ldap)
command -v java >/dev/null 2>&1 && command -v keytool >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
# Node's ldapts and ldapjs, pinned by interop/node/package-lock.json, into
# interop/node/node_modules (needs node 20+ and npm).
node_dir=$(cd "$(dirname "$0")/node" && pwd)
if [ ! -d "$node_dir/node_modules/ldapjs" ] && command -v npm >/dev/null 2>&1; then
	(cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
[ ${#need[@]} -eq 0 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
before=$(sha256sum /etc/nsswitch.conf 2>/dev/null || true)
saved=$(mktemp -d)
cp -a /etc/nsswitch.conf /etc/pam.d "$saved/"
echo "libnss-ldapd libnss-ldapd/nsswitch multiselect" | debconf-set-selections 2>/dev/null || true
echo "libnss-ldapd libnss-ldapd/clean_nsswitch boolean false" | debconf-set-selections 2>/dev/null || true
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  ours=1
fi
cleanup() {
	[ "$ours" = 1 ] && rm -f "$policy"
	rm -rf "$saved"
}
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Undo what libnss-sss and libpam-sss did to the host's name service and
# PAM stack.
cp -a "$saved/nsswitch.conf" /etc/nsswitch.conf
for f in /etc/pam.d/common-*; do
	[ -e "$saved/pam.d/$(basename "$f")" ] && cp -a "$saved/pam.d/$(basename "$f")" "$f"
done
after=$(sha256sum /etc/nsswitch.conf 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "interop/deps.sh: /etc/nsswitch.conf changed during the install; check it" >&2
  exit 1
fi
