#!/usr/bin/env bash
# Python clients against ldapd with an API token: ldap3 (get_info=ALL reads
# and parses the schema) and python-ldap; WhoAmI; paged searches over more
# than 5,000 entries.
SCRIPT_NAME=python
. "$(dirname "$0")/../lib.sh"
"$PY" -c 'import ldap3, ldap' 2>/dev/null || fail "python3-ldap3 and python3-ldap not installed for $PY (interop/deps.sh)"
start_ldapd
setup_directory
tracked "$PY" "$(dirname "$0")/clients.py"
