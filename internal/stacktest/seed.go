package stacktest

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// RecordSource is an import source of recs. Each run reads a copy of every
// record, so the same records can be imported again.
func RecordSource(recs []idm.ImportRecord) idm.ImportSource {
	return func() (func() (idm.ImportRecord, error), error) {
		i := 0
		return func() (idm.ImportRecord, error) {
			if i == len(recs) {
				return idm.ImportRecord{}, io.EOF
			}
			r := recs[i]
			i++
			return idm.ImportRecord{Entry: r.Entry.Clone(), Line: r.Line}, nil
		}, nil
	}
}

// SeedPeople imports n people, uid=user1 to uid=userN below ou=people
// (cn "User N", sn "N", mail userN@example.com), and adds the service
// account uid=bench, managed by idm_admin and a member of
// idm_people_pii_read, so that it reads their personal attributes. It
// returns a read-only token of that account, valid for a year. The
// benchmarks of gateway and idm search this population.
func (s *Stack) SeedPeople(t testing.TB, n int) (token string) {
	t.Helper()
	ctx := context.Background()
	idmAdmin, err := s.IDM.Bind(ctx, "idm_admin", []byte(s.IDMAdminPW))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.IDM.Bind(ctx, "admin", []byte(s.AdminPW))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	src := func() (func() (idm.ImportRecord, error), error) {
		i = 0
		return func() (idm.ImportRecord, error) {
			if i++; i > n {
				return idm.ImportRecord{}, io.EOF
			}
			e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("uid=user%d,ou=people,%s", i, Base)))
			e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
			e.Set("uid", fmt.Sprintf("user%d", i))
			e.Set("cn", fmt.Sprintf("User %d", i))
			e.Set("sn", fmt.Sprint(i))
			e.Set("mail", fmt.Sprintf("user%d@example.com", i))
			return idm.ImportRecord{Entry: e, Line: i}, nil
		}, nil
	}
	if _, err := s.IDM.Import(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	svc := directory.NewEntry(directory.MustParseDN("uid=bench,ou=services," + Base))
	svc.Set("objectClass", "top", directory.ClassServiceAccount)
	svc.Set("uid", "bench")
	svc.Set("displayName", "Bench")
	svc.Set(directory.AttrEntryManagedBy, idmAdmin.DN.String())
	if err := s.IDM.Add(ctx, idmAdmin, svc); err != nil {
		t.Fatal(err)
	}
	pii := directory.MustParseDN("cn=idm_people_pii_read,ou=groups," + Base)
	if err := s.IDM.Modify(ctx, admin, pii, []directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{svc.DN.String()}}}); err != nil {
		t.Fatal(err)
	}
	token, _, err = s.IDM.GenerateToken(ctx, idmAdmin, "bench", "bench", s.Clock.Now().AddDate(1, 0, 0), tokens.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
