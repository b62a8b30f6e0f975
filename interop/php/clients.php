<?php
// PHP's ldap extension against ldapd, as PHP applications use it, over
// LDAPS and over LDAP with StartTLS (the URL and mode come from the
// environment; lib.sh exports LDAPTLS_CACERT for libldap):
//   - Nextcloud-style search-then-bind: bind with the API token (dn=token),
//     find the user's DN by uid, bind as that DN with the user's password;
//     a wrong password and an unknown user fail;
//   - WordPress-style rebind: bind the user's DN directly, then rebind on
//     the same connection with the token and read again.
// Prints one line per check; exits non-zero on the first failure.
$uri = getenv('URI');
$starttls = getenv('STARTTLS') === '1';
$base = getenv('BASE');
$token = getenv('TOKEN');
$userPW = getenv('USER_PW');

function fail($msg) { fwrite(STDERR, "php: FAIL: $msg\n"); exit(1); }
function ok($msg) { echo "ok: $msg\n"; }

function connect($uri, $starttls) {
	$c = ldap_connect($uri);
	if ($c === false) fail("ldap_connect $uri");
	ldap_set_option($c, LDAP_OPT_PROTOCOL_VERSION, 3);
	ldap_set_option($c, LDAP_OPT_REFERRALS, 0);
	if ($starttls && !ldap_start_tls($c)) fail("StartTLS: " . ldap_error($c));
	return $c;
}

// Search, then bind.
$c = connect($uri, $starttls);
if (!@ldap_bind($c, 'dn=token', $token)) fail("token bind: " . ldap_error($c));
ok("token bind");
if (!ldap_exop_whoami($c) || ldap_exop_whoami($c) !== 'u: demo_service@' . getenv('DOMAIN')) fail("whoami: " . var_export(ldap_exop_whoami($c), true));
ok("whoami " . ldap_exop_whoami($c));
$sr = ldap_search($c, $base, '(&(objectClass=inetOrgPerson)(uid=demo_user))', ['dn', 'uid', 'displayName', 'memberOf']);
if ($sr === false) fail("search: " . ldap_error($c));
$es = ldap_get_entries($c, $sr);
if ($es['count'] !== 1) fail("search found " . $es['count'] . " entries");
$dn = $es[0]['dn'];
ok("found $dn");
$u = connect($uri, $starttls);
if (!@ldap_bind($u, $dn, $userPW)) fail("user bind: " . ldap_error($u));
ok("user bind");
$w = connect($uri, $starttls);
if (@ldap_bind($w, $dn, 'wrong-' . $userPW)) fail("wrong password accepted");
if (ldap_errno($w) !== 49) fail("wrong password: errno " . ldap_errno($w));
ok("wrong password refused (49)");
$sr = ldap_search($c, $base, '(&(objectClass=inetOrgPerson)(uid=nobody))', ['dn']);
if (ldap_count_entries($c, $sr) !== 0) fail("unknown user found");
ok("unknown user not found");
// Kanidm-style filter Nextcloud admins copy from Kanidm's guide.
$sr = ldap_search($c, $base, '(&(class=person)(memberof=demo_group@' . getenv('DOMAIN') . '))', ['uid']);
$es = ldap_get_entries($c, $sr);
if ($es['count'] !== 1 || $es[0]['uid'][0] !== 'demo_user') fail("Kanidm filter: " . json_encode($es));
ok("Kanidm-style group filter");

// Rebind on one connection.
$r = connect($uri, $starttls);
if (!@ldap_bind($r, $dn, $userPW)) fail("rebind 1: " . ldap_error($r));
if (!@ldap_bind($r, 'dn=token', $token)) fail("rebind 2 (token): " . ldap_error($r));
$sr = ldap_read($r, $dn, '(objectClass=*)', ['uid']);
$es = ldap_get_entries($r, $sr);
if ($es['count'] !== 1 || $es[0]['uid'][0] !== 'demo_user') fail("read after rebind");
ok("rebind user then token on one connection");
exit(0);
