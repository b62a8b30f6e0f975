"""The request shapes of SSSD, TrueNAS and PostgreSQL against ldapd, bound
with an API token (ldap3; run by run.sh, which sets LDAPS_PORT, CA, BASE,
TOKEN, USER_PW).

SSSD itself needs a running sssd and PAM stack; what ldapd must get right is
the shape of its requests, reproduced here from SSSD's ldap provider
(sdap_*_search with the rfc2307bis schema): 35+ requested attributes, many
of which ldapd does not know; filters naming attributes no entry has (they
match nothing and never fail); memberOf and member filters with full DNs;
and the "1.1" attribute list of PostgreSQL's search+bind LDAP auth.
"""
import os
import sys

import ldap3
from ldap3.core.exceptions import LDAPException

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from suite import BASE, PEOPLE, TOKEN, Checks, ldaps_server  # noqa: E402 (interop/suite.py)

USER_PW = os.environ["USER_PW"]
GROUPS = "ou=groups," + BASE
USER_DN = "uid=demo_user," + PEOPLE
GROUP_DN = "cn=demo_group," + GROUPS

# SSSD 2.x's default user attribute map (rfc2307bis and IPA/AD extras).
SSSD_USER_ATTRS = [
    "objectClass", "uid", "userPassword", "uidNumber", "gidNumber", "gecos", "homeDirectory", "loginShell",
    "krbPrincipalName", "cn", "memberOf", "modifyTimestamp", "shadowLastChange", "shadowMin", "shadowMax",
    "shadowWarning", "shadowInactive", "shadowExpire", "shadowFlag", "krbLastPwdChange",
    "krbPasswordExpiration", "pwdAttribute", "authorizedService", "accountExpires", "userAccountControl",
    "nsAccountLock", "host", "rhost", "loginDisabled", "loginExpirationTime", "loginAllowedTimeMap",
    "ipaSshPubKey", "ipaUserAuthType", "nsUniqueId", "entryUUID", "mail", "sshPublicKey", "objectSIDString",
    "ipaNTSecurityIdentifier", "userPrincipalName", "displayName", "createTimestamp",
]
SSSD_GROUP_ATTRS = [
    "objectClass", "cn", "userPassword", "gidNumber", "member", "memberUid", "modifyTimestamp", "nsUniqueId",
    "entryUUID", "ipaUniqueID", "objectSIDString", "ipaNTSecurityIdentifier", "ipaExternalMember",
    "groupType", "entryUSN", "description", "memberOf",
]
POSIX_USER = "(&(uidNumber=*)(!(uidNumber=0)))"
POSIX_GROUP = "(&(gidNumber=*)(!(gidNumber=0)))"


_checks = Checks("sssd")
log, check = _checks.log, _checks.check


def connect(user="dn=token", password=TOKEN, empty=False):
    server = ldaps_server()
    # check_names=False: send attribute names as given, as SSSD does.
    return ldap3.Connection(server, user=user, password=password, auto_bind=True,
                            raise_exceptions=True, check_names=False, return_empty_attributes=empty)


def search(conn, base, flt, attrs, scope=ldap3.SUBTREE, **kw):
    conn.search(base, flt, search_scope=scope, attributes=attrs, **kw)
    return conn.response


def dns(resp):
    return sorted(r["dn"].lower() for r in resp if r.get("type") == "searchResEntry")


def main():
    conn = connect()
    check(len(SSSD_USER_ATTRS) >= 35, "the user search asks for %d attributes" % len(SSSD_USER_ATTRS))

    # getpwnam: SSSD's user lookup.
    resp = search(conn, PEOPLE, "(&(uid=demo_user)(objectclass=posixAccount)%s)" % POSIX_USER, SSSD_USER_ATTRS)
    check(dns(resp) == [USER_DN.lower()], "getpwnam shape finds demo_user")
    attrs = {k.lower(): v for k, v in resp[0]["raw_attributes"].items()}
    for a in ("uid", "uidnumber", "gidnumber", "homedirectory", "loginshell", "gecos", "memberof", "entryuuid", "cn"):
        check(a in attrs and attrs[a], "getpwnam shape returns %s" % a)
    check("userpassword" not in attrs and "krbprincipalname" not in attrs,
          "unknown and secret attributes are silently absent")
    check([v.decode().lower() for v in attrs["memberof"]] == [GROUP_DN.lower()], "memberOf holds demo_group's DN")

    # getpwuid and enumeration shapes.
    uid = attrs["uidnumber"][0].decode()
    resp = search(conn, PEOPLE, "(&(uidNumber=%s)(objectclass=posixAccount)%s)" % (uid, POSIX_USER), SSSD_USER_ATTRS)
    check(dns(resp) == [USER_DN.lower()], "getpwuid shape (uidNumber=%s) finds demo_user" % uid)
    resp = search(conn, PEOPLE, "(&(objectclass=posixAccount)(uid=*)%s(modifyTimestamp>=19700101000000Z))" % POSIX_USER,
                  SSSD_USER_ATTRS)
    check(set(dns(resp)) >= {USER_DN.lower(), ("uid=outsider," + PEOPLE).lower()},
          "enumeration shape with modifyTimestamp>= finds the POSIX people")

    # getgrnam / getgrgid and initgroups (rfc2307bis: member=DN, and rfc2307: memberUid=name).
    resp = search(conn, GROUPS, "(&(cn=demo_group)(objectclass=posixGroup)(cn=*)%s)" % POSIX_GROUP, SSSD_GROUP_ATTRS)
    check(dns(resp) == [GROUP_DN.lower()], "getgrnam shape finds demo_group")
    gattrs = {k.lower(): v for k, v in resp[0]["raw_attributes"].items()}
    check(sorted(v.decode() for v in gattrs["memberuid"]) == ["demo_service", "demo_user"],
          "the group has memberUid (names) %s" % gattrs["memberuid"])
    check(USER_DN.lower() in [v.decode().lower() for v in gattrs["member"]], "the group has member (DNs)")
    gid = gattrs["gidnumber"][0].decode()
    resp = search(conn, GROUPS, "(&(gidNumber=%s)(objectclass=posixGroup)(cn=*)%s)" % (gid, POSIX_GROUP), SSSD_GROUP_ATTRS)
    check(dns(resp) == [GROUP_DN.lower()], "getgrgid shape (gidNumber=%s) finds demo_group" % gid)
    resp = search(conn, BASE, "(&(member=%s)(objectClass=posixGroup)(cn=*)%s)" % (USER_DN, POSIX_GROUP), SSSD_GROUP_ATTRS)
    check(dns(resp) == [GROUP_DN.lower()], "initgroups shape (member=full DN) finds demo_group")
    resp = search(conn, BASE, "(&(memberUid=demo_user)(objectClass=posixGroup)(cn=*)%s)" % POSIX_GROUP, SSSD_GROUP_ATTRS)
    check(dns(resp) == [GROUP_DN.lower()], "initgroups shape (memberUid=name) finds demo_group")

    # memberOf filters with full DNs, in any case and spacing.
    for value in (GROUP_DN, GROUP_DN.upper(), GROUP_DN.replace(",", ", ")):
        resp = search(conn, BASE, "(&(objectClass=posixAccount)(memberOf=%s))" % value, ["uid"])
        check(dns(resp) == [USER_DN.lower()], "(memberOf=%s) finds demo_user" % value)
    resp = search(conn, BASE, "(memberOf=cn=no_such_group,%s)" % GROUPS, ["uid"])
    check(dns(resp) == [], "memberOf of a group that does not exist matches nothing")

    # Filters on attributes no entry has, known to the schema or not:
    # they match nothing and never fail; inside an OR they do no harm.
    for flt in ("(krbPrincipalName=demo_user@IDM.EXAMPLE.COM)", "(ipaUniqueID=*)", "(nsAccountLock=TRUE)",
                "(shadowExpire=1)", "(userAccountControl:1.2.840.113556.1.4.803:=2)", "(!(objectSIDString=x))",
                "(&(uid=demo_user)(sshPublicKey=*))"):
        resp = search(conn, BASE, flt, ["uid"])
        check(dns(resp) == [], "%s matches nothing (result %d)" % (flt, conn.result["result"]))
    resp = search(conn, PEOPLE, "(|(uid=demo_user)(krbPrincipalName=demo_user@IDM.EXAMPLE.COM))", ["uid"])
    check(dns(resp) == [USER_DN.lower()], "an OR with an unknown attribute still finds demo_user")

    # PostgreSQL's ldapsearchattribute search+bind: attributes "1.1", then a
    # bind as the DN found.
    resp = search(conn, PEOPLE, "(uid=demo_user)", ["1.1"])
    check(dns(resp) == [USER_DN.lower()] and not resp[0]["raw_attributes"], "the 1.1 list returns the DN and no attributes")
    resp = search(conn, PEOPLE, "(uid=demo_user)", ["1.1", "uid"])
    check(resp[0]["raw_attributes"].get("uid") == [b"demo_user"], "1.1 with another name returns that attribute")
    user = connect(USER_DN, USER_PW)
    check(user.extend.standard.who_am_i() is not None, "bind as the DN found, with demo_user's password")
    try:
        connect(USER_DN, "wrong")
        check(False, "a wrong password must not bind")
    except LDAPException:
        log("ok: a wrong password does not bind")

    # TrueNAS / SSSD probe the root DSE with a long attribute list.
    resp = search(conn, "", "(objectClass=*)", ["*", "altServer", "namingContexts", "supportedControl",
                                                 "supportedExtension", "supportedFeatures", "supportedLDAPVersion",
                                                 "supportedSASLMechanisms", "domainControllerFunctionality",
                                                 "defaultNamingContext", "lastUSN", "highestCommittedUSN"],
                  scope=ldap3.BASE)
    rattrs = {k.lower(): v for k, v in resp[0]["raw_attributes"].items()}
    check(rattrs.get("namingcontexts") == [BASE.encode()], "root DSE with unknown names returns namingContexts")
    check(b"1.2.840.113556.1.4.319" in rattrs.get("supportedcontrol", []), "root DSE lists paged results")

    # typesOnly and a size limit.
    resp = search(connect(empty=True), PEOPLE, "(uid=demo_user)", ["uidNumber", "mail"], types_only=True)
    raw = resp[0]["raw_attributes"]  # ldap3 lists requested names it did not get as []
    check("uidNumber" in raw and not raw["uidNumber"] and not raw.get("mail"),
          "typesOnly returns names without values (%s)" % raw)
    try:
        conn.search(PEOPLE, "(objectClass=person)", attributes=["1.1"], size_limit=1)
        code = conn.result["result"]
    except LDAPException:
        code = conn.result["result"]
    check(code == 4 and len(conn.response) >= 1, "sizeLimit 1 answers sizeLimitExceeded (4) after one entry")
    log("PASS")


if __name__ == "__main__":
    main()
