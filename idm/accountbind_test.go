package idm_test

// Only accounts bind (docs/design.md section 4): a person (inetOrgPerson directly
// under ou=people) or a service account (ldapdServiceAccount directly under
// ou=services). An entry of the right class in the wrong place, or a group
// that was given a password, is answered like an unknown name.

import (
	"context"
	"errors"
	"testing"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// addAsRoot adds e through the local administration identity, which no
// write policy stops: the entries below are what a careless or malicious
// group admin could have left behind under an older policy.
func addAsRoot(t *testing.T, s *stacktest.Stack, dn string, attrs ...string) {
	t.Helper()
	e := directory.NewEntry(directory.MustParseDN(dn))
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Add(attrs[i], attrs[i+1])
	}
	if err := s.IDM.Add(context.Background(), idm.RootIdentity(), e); err != nil {
		t.Fatalf("add %s as root: %v", dn, err)
	}
}

func TestOnlyAccountsBind(t *testing.T) {
	f := newFixture(t)
	s := f.s
	ctx := context.Background()
	ghost := "uid=ghost,ou=groups," + stacktest.Base
	addAsRoot(t, s, ghost, "objectClass", "inetOrgPerson", "cn", "ghost", "sn", "ghost", "uid", "ghost", "userPassword", "ghost-pw-1")
	posix := "cn=posixers,ou=groups," + stacktest.Base
	addAsRoot(t, s, posix, "objectClass", "groupOfNames", "objectClass", "posixGroup", "cn", "posixers",
		"member", "uid=admin,ou=people,"+stacktest.Base, "userPassword", "group-pw-1")
	real := "uid=carol,ou=people," + stacktest.Base
	addAsRoot(t, s, real, "objectClass", "inetOrgPerson", "cn", "carol", "sn", "carol", "uid", "carol", "userPassword", "carol-pw-1")

	for _, tc := range []struct{ name, bindName, pw string }{
		{"person class under ou=groups, by DN", ghost, "ghost-pw-1"},
		{"person class under ou=groups, by bare name", "ghost", "ghost-pw-1"},
		{"person class under ou=groups, by spn", "ghost@" + stacktest.Domain, "ghost-pw-1"},
		{"posixGroup with a password, by DN", posix, "group-pw-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if id, err := s.IDM.Bind(ctx, tc.bindName, []byte(tc.pw)); !errors.Is(err, directory.ErrInvalidCredentials) {
				t.Fatalf("bind as %s with its stored password: identity %v, error %v; want invalidCredentials", tc.bindName, id, err)
			}
		})
	}
	// The answer is the one an unknown name gets, word for word.
	_, ghostErr := s.IDM.Bind(ctx, ghost, []byte("ghost-pw-1"))
	_, unknownErr := s.IDM.Bind(ctx, "uid=nobody,ou=people,"+stacktest.Base, []byte("x"))
	if ghostErr.Error() != unknownErr.Error() {
		t.Errorf("a non-account answers %q, an unknown name %q", ghostErr, unknownErr)
	}
	// An identity naming a non-account (none can be made by a bind now) is
	// refused at every operation: subject() re-checks the kind.
	forged := idm.Identity{Kind: acl.Account, DN: directory.MustParseDN(ghost)}
	if err := s.IDM.Check(ctx, forged); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Errorf("operation as a non-account identity: %v, want invalidCredentials", err)
	}
	// A real person with the same kind of entry binds: the test can fail.
	if _, err := s.IDM.Bind(ctx, "carol", []byte("carol-pw-1")); err != nil {
		t.Fatalf("carol, a person under ou=people: %v", err)
	}
}
