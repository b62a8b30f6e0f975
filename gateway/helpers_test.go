package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// DNs of the conventional containers and built-in entries of the stack.
const (
	base     = stacktest.Base
	people   = "ou=people," + base
	groups   = "ou=groups," + base
	services = "ou=services," + base
)

func personDN(uid string) string { return "uid=" + uid + "," + people }
func groupDN(cn string) string   { return "cn=" + cn + "," + groups }

// wantCode fails the test unless err carries the LDAP result code want
// (0: success).
func wantCode(t testing.TB, what string, err error, want uint16) {
	t.Helper()
	if got := stacktest.ResultCode(err); got != want {
		t.Fatalf("%s: result code %d, want %d (err: %v)", what, got, want, err)
	}
}

// ldapErr returns err as an *ldap.Error, failing the test if it is not one.
func ldapErr(t testing.TB, err error) *ldap.Error {
	t.Helper()
	le, ok := err.(*ldap.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not an *ldap.Error", err, err)
	}
	return le
}

// attrs builds go-ldap attributes from name, value, name, value, ... pairs;
// repeated names get several values.
func attrs(pairs ...string) []ldap.Attribute {
	var out []ldap.Attribute
	for i := 0; i+1 < len(pairs); i += 2 {
		j := slices.IndexFunc(out, func(a ldap.Attribute) bool { return a.Type == pairs[i] })
		if j < 0 {
			out = append(out, ldap.Attribute{Type: pairs[i]})
			j = len(out) - 1
		}
		out[j].Vals = append(out[j].Vals, pairs[i+1])
	}
	return out
}

// addPerson adds an inetOrgPerson uid=name under ou=people with cn and sn
// set and the extra attribute pairs, and returns its DN.
func addPerson(t testing.TB, c *ldap.Conn, name string, extra ...string) string {
	t.Helper()
	dn := personDN(name)
	pairs := append([]string{"objectClass", "inetOrgPerson", "uid", name, "cn", name, "sn", name}, extra...)
	req := &ldap.AddRequest{DN: dn, Attributes: attrs(pairs...)}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// addService adds a service account uid=name under ou=services, managed
// by idm_admins, and returns its DN.
func addService(t testing.TB, c *ldap.Conn, name string) string {
	t.Helper()
	dn := "uid=" + name + "," + services
	req := &ldap.AddRequest{DN: dn, Attributes: attrs("objectClass", "ldapdServiceAccount", "uid", name,
		"entryManagedBy", groupDN("idm_admins"))}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// addGroup adds a groupOfNames cn=name under ou=groups with members.
func addGroup(t testing.TB, c *ldap.Conn, name string, members ...string) string {
	t.Helper()
	dn := groupDN(name)
	pairs := []string{"objectClass", "groupOfNames", "cn", name}
	for _, m := range members {
		pairs = append(pairs, "member", m)
	}
	if err := c.Add(&ldap.AddRequest{DN: dn, Attributes: attrs(pairs...)}); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// modify applies one change to dn and returns the error.
func modify(c *ldap.Conn, dn string, op uint, attr string, vals ...string) error {
	req := ldap.NewModifyRequest(dn, nil)
	switch op {
	case ldap.AddAttribute:
		req.Add(attr, vals)
	case ldap.DeleteAttribute:
		req.Delete(attr, vals)
	case ldap.ReplaceAttribute:
		req.Replace(attr, vals)
	}
	return c.Modify(req)
}

// addMember adds member to group and fails the test on error.
func addMember(t testing.TB, c *ldap.Conn, group, member string) {
	t.Helper()
	if err := modify(c, group, ldap.AddAttribute, "member", member); err != nil {
		t.Fatalf("add %s to %s: %v", member, group, err)
	}
}

// search runs a search and fails the test on error.
func search(t testing.TB, c *ldap.Conn, baseDN string, scope int, filter string, attributes ...string) []*ldap.Entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(baseDN, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attributes, nil))
	if err != nil {
		t.Fatalf("search %s %s: %v", baseDN, filter, err)
	}
	return res.Entries
}

// read returns the entry dn with the requested attributes, or nil when the
// search finds nothing.
func read(t testing.TB, c *ldap.Conn, dn string, attributes ...string) *ldap.Entry {
	t.Helper()
	es := search(t, c, dn, ldap.ScopeBaseObject, "(objectClass=*)", attributes...)
	if len(es) == 0 {
		return nil
	}
	return es[0]
}

// exists reports whether dn exists (for c): a base search that answers
// noSuchObject means it does not.
func exists(t testing.TB, c *ldap.Conn, dn string) bool {
	t.Helper()
	_, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	return succeeded(t, "search "+dn, err, ldap.LDAPResultNoSuchObject)
}

// succeeded reports whether err is success (true) or the result code no
// (false), and fails the test on any other answer.
func succeeded(t testing.TB, what string, err error, no uint16) bool {
	t.Helper()
	switch stacktest.ResultCode(err) {
	case 0:
		return true
	case no:
		return false
	}
	t.Fatalf("%s: %v", what, err)
	return false
}

// dns returns the entries' DNs, lower-cased and sorted.
func dns(es []*ldap.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = strings.ToLower(e.DN)
	}
	slices.Sort(out)
	return out
}

// uids returns the entries' uid values, sorted.
func uids(es []*ldap.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.GetAttributeValue("uid"))
	}
	slices.Sort(out)
	return out
}

// attrNames returns the names of e's attributes, lower-cased and sorted.
func attrNames(e *ldap.Entry) []string {
	var out []string
	for _, a := range e.Attributes {
		out = append(out, strings.ToLower(a.Name))
	}
	slices.Sort(out)
	return out
}

// hasAttr reports whether e carries attribute name (any case).
func hasAttr(e *ldap.Entry, name string) bool {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) {
			return true
		}
	}
	return false
}

// values returns e's values of name, whatever the case of name.
func values(e *ldap.Entry, name string) []string {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// hasDN reports whether vals holds dn, compared as DNs.
func hasDN(vals []string, dn string) bool {
	want, err := ldap.ParseDN(dn)
	if err != nil {
		panic(err)
	}
	for _, v := range vals {
		if got, err := ldap.ParseDN(v); err == nil && got.EqualFold(want) {
			return true
		}
	}
	return false
}

// bindArgs are the ldap-utils arguments for a simple bind over LDAPS.
func bindArgs(s *stacktest.Stack, name, pw string) []string {
	return []string{"-H", s.URL(), "-x", "-D", name, "-w", pw}
}

// idmAdminArgs binds the ldap-utils as idm_admin over LDAPS.
func idmAdminArgs(s *stacktest.Stack) []string { return bindArgs(s, "idm_admin", s.IDMAdminPW) }

// adminArgs binds the ldap-utils as admin over LDAPS.
func adminArgs(s *stacktest.Stack) []string { return bindArgs(s, "admin", s.AdminPW) }

// anonArgs are the ldap-utils arguments for an anonymous LDAPS session.
func anonArgs(s *stacktest.Stack) []string { return []string{"-H", s.URL(), "-x"} }

// tool runs an ldap-utils command and fails the test unless it exits with
// want; it returns the output.
func tool(t testing.TB, s *stacktest.Stack, want int, stdin, name string, args ...string) string {
	t.Helper()
	out, code := s.Tool(t, stdin, name, args...)
	if code != want {
		t.Fatalf("%s %s: exit %d, want %d; output:\n%s", name, strings.Join(redact(args), " "), code, want, out)
	}
	return out
}

// redact hides the value after -w, -a and -s in a logged command line.
func redact(args []string) []string {
	out := slices.Clone(args)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "-w" || out[i] == "-a" || out[i] == "-s" {
			out[i+1] = "***"
		}
	}
	return out
}

// wantResult fails the test unless an ldap-utils output reports result
// code want, as "Result: Insufficient access (50)" or "result: 50 ...".
func wantResult(t testing.TB, out string, want uint16) {
	t.Helper()
	if !strings.Contains(out, fmt.Sprintf("(%d)", want)) && !strings.Contains(out, fmt.Sprintf("result: %d ", want)) {
		t.Fatalf("output does not report result %d:\n%s", want, out)
	}
}

// with appends more arguments to a copy of args.
func with(args []string, more ...string) []string {
	return append(slices.Clone(args), more...)
}

// ldifDNs returns the "dn:" lines of ldapsearch -LLL output, lower-cased
// and sorted. Long lines are unfolded first.
func ldifDNs(out string) []string {
	var dns []string
	for _, l := range ldifLines(out) {
		if v, ok := strings.CutPrefix(l, "dn: "); ok {
			dns = append(dns, strings.ToLower(v))
		}
	}
	slices.Sort(dns)
	return dns
}

// ldifValues returns the values of attribute name in ldapsearch output.
func ldifValues(out, name string) []string {
	var vals []string
	for _, l := range ldifLines(out) {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(k, name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// ldifAttrNames returns the distinct attribute names (dn excluded) in
// ldapsearch -LLL output, lower-cased and sorted.
func ldifAttrNames(out string) []string {
	var names []string
	for _, l := range ldifLines(out) {
		k, _, ok := strings.Cut(l, ":")
		if !ok || strings.HasPrefix(l, "#") || strings.EqualFold(k, "dn") {
			continue
		}
		if k = strings.ToLower(k); !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// ldifLines unfolds LDIF continuation lines (RFC 2849).
func ldifLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, " ") && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, strings.TrimRight(l, "\r"))
	}
	return lines
}

// ldif joins lines into an LDIF document.
func ldif(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// mustEqual fails the test when got and want differ.
func mustEqual[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func lower(ss ...string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	slices.Sort(out)
	return out
}

// containsLine reports whether out has a line equal to want (spaces
// trimmed).
func containsLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// stackAsIDMAdmin starts the whole stack and returns it with a connection
// bound as idm_admin, the opening of most tests here.
func stackAsIDMAdmin(t testing.TB) (*stacktest.Stack, *ldap.Conn) {
	t.Helper()
	s := stacktest.New(t)
	return s, s.IDMAdmin(t)
}
