"""What the Python interop suites (python/clients.py, sssd/shapes.py) share:
the environment their run.sh sets (LDAPS_PORT, CA, BASE, TOKEN), an ldap3
server over LDAPS that trusts CA, and progress lines on standard error
prefixed with the suite's name, with a check that ends the run (exit 1) at
the first failure. A suite imports it after putting interop/ on sys.path."""
import os
import ssl
import sys

import ldap3

PORT = int(os.environ["LDAPS_PORT"])
CA = os.environ["CA"]
BASE = os.environ["BASE"]
TOKEN = os.environ["TOKEN"]
PEOPLE = "ou=people," + BASE


def ldaps_server(info=ldap3.NONE):
    """ldapd's LDAPS listener on localhost, its certificate checked against CA."""
    tls = ldap3.Tls(ca_certs_file=CA, validate=ssl.CERT_REQUIRED)
    return ldap3.Server("localhost", port=PORT, use_ssl=True, tls=tls, get_info=info)


class Checks:
    def __init__(self, suite):
        self.suite = suite

    def log(self, msg):
        print(self.suite + ": " + msg, file=sys.stderr, flush=True)

    def check(self, cond, msg):
        if not cond:
            self.log("FAIL: " + msg)
            sys.exit(1)
        self.log("ok: " + msg)
