#!/usr/bin/env bash
# SSSD-, TrueNAS- and PostgreSQL-shaped requests against ldapd, bound with an
# API token (see shapes.py).
SCRIPT_NAME=sssd
. "$(dirname "$0")/../lib.sh"
"$PY" -c 'import ldap3' 2>/dev/null || fail "python3-ldap3 not installed for $PY (interop/deps.sh)"
start_ldapd
setup_directory
tracked "$PY" "$(dirname "$0")/shapes.py"
# The real daemon (daemon.sh), with its own ldapd.
tracked "$(dirname "$0")/daemon.sh"
