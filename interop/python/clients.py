"""ldap3 and python-ldap against ldapd, binding with an API token.

Run by run.sh, which starts ldapd and sets the environment: LDAPS_PORT, CA,
BASE, DOMAIN, TOKEN, IDM_PW (idm_admin's password, to add the bulk entries).
Checks: token bind, WhoAmI, paged search over more than 5,000 entries, the
schema (ldap3 get_info=ALL parses the subschema entry; python-ldap's
SubSchema too).
"""
import os
import sys
import time

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.protocol.oid import CLASS_AUXILIARY
import ldap
import ldap.schema
from ldap.controls import SimplePagedResultsControl

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from suite import BASE, CA, PEOPLE, PORT, TOKEN, Checks, ldaps_server  # noqa: E402 (interop/suite.py)

DOMAIN = os.environ["DOMAIN"]
IDM_PW = os.environ["IDM_PW"]
BULK = int(os.environ.get("BULK", "5000"))
# SPEC section 2 (after Kanidm) has a space after "u:"; RFC 4513's uAuthzId
# has none. Both libraries return the authzId as the server sent it.
WANT_WHOAMI = "u: demo_service@" + DOMAIN


_checks = Checks("python")
log, check = _checks.log, _checks.check


def populate():
    """Add BULK people as idm_admin (ldap3), unless they are there."""
    conn = ldap3.Connection(ldaps_server(), user="idm_admin", password=IDM_PW,
                            auto_bind=True, raise_exceptions=True)
    start = time.time()
    for i in range(BULK):
        uid = "bulk%05d" % i
        conn.add("uid=%s,%s" % (uid, PEOPLE), ["top", "person", "organizationalPerson", "inetOrgPerson"],
                 {"uid": uid, "cn": uid, "sn": "Bulk", "displayName": "Bulk %d" % i})
    conn.unbind()
    log("added %d people in %.1f s" % (BULK, time.time() - start))


def test_ldap3():
    server = ldaps_server(ldap3.ALL)
    conn = ldap3.Connection(server, user="dn=token", password=TOKEN, raise_exceptions=True)
    check(conn.bind(), "ldap3: bind with dn=token and the token")
    # get_info=ALL read the root DSE and the subschema entry at bind.
    check(server.info is not None and BASE in [str(n) for n in server.info.naming_contexts],
          "ldap3: root DSE read (namingContexts %s)" % server.info.naming_contexts)
    check("1.3.6.1.4.1.4203.1.11.3" in [e[0] for e in server.info.supported_extensions],
          "ldap3: WhoAmI listed in supportedExtension")
    schema = server.schema
    check(schema is not None and len(schema.attribute_types) > 50 and len(schema.object_classes) > 20,
          "ldap3: schema parsed (%d attribute types, %d object classes)" % (
              len(schema.attribute_types), len(schema.object_classes)))
    pa = schema.object_classes["posixAccount"]
    check("uidNumber" in pa.must_contain and pa.kind == CLASS_AUXILIARY,
          "ldap3: posixAccount is auxiliary and must have uidNumber")
    check(schema.attribute_types["uidNumber"].syntax == "1.3.6.1.4.1.1466.115.121.1.27",
          "ldap3: uidNumber has the Integer syntax")
    # Formatting by schema: uidNumber comes back as an int.
    conn.search(PEOPLE, "(uid=demo_user)", attributes=["uidNumber", "gidNumber", "homeDirectory", "memberOf"])
    e = conn.entries[0]
    check(isinstance(e.uidNumber.value, int) and e.homeDirectory.value == "/home/demo_user",
          "ldap3: demo_user uidNumber=%r homeDirectory=%s" % (e.uidNumber.value, e.homeDirectory.value))
    check(conn.extend.standard.who_am_i() == WANT_WHOAMI, "ldap3: WhoAmI answers " + WANT_WHOAMI)
    start = time.time()
    n, pages = 0, 0
    cookie = None
    while True:
        conn.search(PEOPLE, "(objectClass=inetOrgPerson)", attributes=["uid"], paged_size=500, paged_cookie=cookie)
        n += len(conn.entries)
        pages += 1
        cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
        if not cookie:
            break
    check(n >= BULK + 2 and pages >= BULK // 500,
          "ldap3: paged search returned %d entries in %d pages (%.1f s)" % (n, pages, time.time() - start))
    total = sum(1 for _ in conn.extend.standard.paged_search(PEOPLE, "(uid=bulk*)", attributes=["uid"],
                                                              paged_size=1000, generator=True))
    check(total == BULK, "ldap3: paged_search generator returned %d bulk entries" % total)
    # A read-only token cannot write.
    try:
        conn.modify("uid=demo_user," + PEOPLE, {"description": [(ldap3.MODIFY_REPLACE, ["x"])]})
        check(False, "ldap3: a write with a read-only token must fail")
    except LDAPException as exc:
        check(conn.result["result"] == 50, "ldap3: a write with the read-only token answers 50 (%s)" % exc)
    conn.unbind()


def test_python_ldap():
    conn = ldap.initialize("ldaps://localhost:%d" % PORT)
    # TLS options on the connection, then a new TLS context for them
    # (libldap ignores global TLS options set after its first use).
    conn.set_option(ldap.OPT_X_TLS_CACERTFILE, CA)
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.protocol_version = 3
    conn.simple_bind_s("dn=token", TOKEN)
    log("ok: python-ldap: bind with dn=token and the token")
    check(conn.whoami_s() == WANT_WHOAMI, "python-ldap: whoami_s answers " + WANT_WHOAMI)
    # Schema: find the subschema entry from the root DSE and parse it.
    dn = conn.search_subschemasubentry_s(BASE)
    check(dn is not None, "python-ldap: subschemaSubentry is %s" % dn)
    entry = conn.read_subschemasubentry_s(dn)
    schema = ldap.schema.SubSchema(entry, check_uniqueness=1)
    oc = schema.get_obj(ldap.schema.ObjectClass, "posixGroup")
    check(oc is not None and "gidNumber" in oc.must, "python-ldap: schema has posixGroup (must gidNumber)")
    must, may = schema.attribute_types(["inetOrgPerson", "posixAccount"])
    check(len(must) > 3 and len(may) > 10, "python-ldap: attribute_types of inetOrgPerson+posixAccount resolved")
    # Paged search (RFC 2696) over all the people.
    ctrl = SimplePagedResultsControl(True, size=700, cookie="")
    n, pages = 0, 0
    while True:
        msgid = conn.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=person)", ["uid"], serverctrls=[ctrl])
        _, data, _, sctrls = conn.result3(msgid)
        n += len(data)
        pages += 1
        paged = [c for c in sctrls if c.controlType == SimplePagedResultsControl.controlType]
        if not paged or not paged[0].cookie:
            break
        ctrl.cookie = paged[0].cookie
    check(n >= BULK + 2 and pages > 1, "python-ldap: paged search returned %d entries in %d pages" % (n, pages))
    # memberUid is a stored, indexed attribute: usable in filters.
    res = conn.search_s("ou=groups," + BASE, ldap.SCOPE_SUBTREE, "(&(objectClass=posixGroup)(memberUid=demo_user))", ["cn", "gidNumber"])
    check([r[1]["cn"][0] for r in res] == [b"demo_group"], "python-ldap: (memberUid=demo_user) finds demo_group")
    conn.unbind_s()


def main():
    populate()
    test_ldap3()
    test_python_ldap()
    log("PASS")


if __name__ == "__main__":
    main()
