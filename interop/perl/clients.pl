#!/usr/bin/perl
# Perl's Net::LDAP against ldapd, over LDAPS and over LDAP with StartTLS:
# token bind, WhoAmI, search-then-bind as the user, a wrong password (49),
# paged search, Kanidm's bind DN form. Prints one line per check; dies on
# the first failure.
use strict;
use warnings;
use Net::LDAP;
use Net::LDAP::Control::Paged;
use Net::LDAP::Constant qw(LDAP_CONTROL_PAGED LDAP_INVALID_CREDENTIALS);
use Net::LDAP::Extension::WhoAmI;

my ($mode, $host, $port) = ($ENV{MODE}, 'localhost', $ENV{PORT});
my ($base, $token, $pw, $domain, $ca) = @ENV{qw(BASE TOKEN USER_PW DOMAIN CA)};

sub connect_ldap {
	my $l;
	if ($mode eq 'ldaps') {
		$l = Net::LDAP->new("ldaps://$host:$port", verify => 'require', cafile => $ca, timeout => 10)
			or die "connect: $@";
	} else {
		$l = Net::LDAP->new("ldap://$host:$port", timeout => 10) or die "connect: $@";
		my $m = $l->start_tls(verify => 'require', cafile => $ca);
		die "StartTLS: " . $m->error if $m->code;
	}
	return $l;
}
sub ok { print "ok: $_[0]\n" }

my $l = connect_ldap();
my $m = $l->bind('dn=token', password => $token);
die "token bind: " . $m->error if $m->code;
ok("token bind");
$m = $l->who_am_i;
die "whoami: " . $m->error if $m->code;
die "whoami: " . $m->response if $m->response ne "u: demo_service\@$domain";
ok("whoami " . $m->response);
$m = $l->search(base => $base, filter => '(&(objectClass=posixAccount)(uid=demo_user))', attrs => ['uid', 'uidNumber']);
die "search: " . $m->error if $m->code;
die "search found " . $m->count if $m->count != 1;
my $dn = $m->entry(0)->dn;
ok("found $dn uidNumber " . $m->entry(0)->get_value('uidNumber'));

my $u = connect_ldap();
$m = $u->bind($dn, password => $pw);
die "user bind: " . $m->error if $m->code;
ok("user bind");
$m = connect_ldap()->bind($dn, password => "wrong-$pw");
die "wrong password: code " . $m->code if $m->code != LDAP_INVALID_CREDENTIALS;
ok("wrong password refused (49)");
$m = connect_ldap()->bind("spn=demo_user\@$domain,$base", password => $pw);
die "Kanidm bind DN: " . $m->error if $m->code;
ok("Kanidm bind DN spn=demo_user\@$domain,BASE");

# Paged search (RFC 2696), one entry per page.
my $page = Net::LDAP::Control::Paged->new(size => 1);
my ($cookie, $n, $pages) = (undef, 0, 0);
while (1) {
	$m = $l->search(base => $base, filter => '(objectClass=posixAccount)', attrs => ['1.1'], control => [$page]);
	die "paged search: " . $m->error if $m->code;
	$n += $m->count;
	$pages++;
	my ($resp) = $m->control(LDAP_CONTROL_PAGED) or last;
	$cookie = $resp->cookie or last;
	$page->cookie($cookie);
	die "too many pages" if $pages > 20;
}
die "paged search: $n entries in $pages pages" if $n < 2 || $pages < 2;
ok("paged search: $n entries in $pages pages");
$l->unbind;
