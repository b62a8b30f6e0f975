package idm_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/tokens"
)

// benchPeople is the number of people the search benchmarks search among.
const benchPeople = 1000

// benchFixture is a stack with benchPeople people (uid=userN) and a
// service account that reads personal attributes, bound with a token.
type benchFixture struct {
	s     *stacktest.Stack
	token string
	id    idm.Identity
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	s := stacktest.New(b)
	ctx := context.Background()
	idmAdmin, err := s.IDM.Bind(ctx, "idm_admin", []byte(s.IDMAdminPW))
	if err != nil {
		b.Fatal(err)
	}
	admin, err := s.IDM.Bind(ctx, "admin", []byte(s.AdminPW))
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	src := func() (func() (idm.ImportRecord, error), error) {
		i = 0
		return func() (idm.ImportRecord, error) {
			i++
			if i > benchPeople {
				return idm.ImportRecord{}, io.EOF
			}
			e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("uid=user%d,ou=people,%s", i, stacktest.Base)))
			e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
			e.Set("uid", fmt.Sprintf("user%d", i))
			e.Set("cn", fmt.Sprintf("User %d", i))
			e.Set("sn", fmt.Sprint(i))
			e.Set("mail", fmt.Sprintf("user%d@example.com", i))
			return idm.ImportRecord{Entry: e, Line: i}, nil
		}, nil
	}
	if _, err := s.IDM.Import(ctx, src, nil); err != nil {
		b.Fatal(err)
	}
	svc := directory.NewEntry(directory.MustParseDN("uid=bench,ou=services," + stacktest.Base))
	svc.Set("objectClass", "top", directory.ClassServiceAccount)
	svc.Set("uid", "bench")
	svc.Set("displayName", "Bench")
	svc.Set(directory.AttrEntryManagedBy, idmAdmin.DN.String())
	if err := s.IDM.Add(ctx, idmAdmin, svc); err != nil {
		b.Fatal(err)
	}
	pii := directory.MustParseDN("cn=idm_people_pii_read,ou=groups," + stacktest.Base)
	if err := s.IDM.Modify(ctx, admin, pii, []directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{svc.DN.String()}}}); err != nil {
		b.Fatal(err)
	}
	token, _, err := s.IDM.GenerateToken(ctx, idmAdmin, "bench", "bench", s.Clock.Now().AddDate(1, 0, 0), tokens.ReadOnly)
	if err != nil {
		b.Fatal(err)
	}
	id, err := s.IDM.Bind(ctx, "dn=token", []byte(token))
	if err != nil {
		b.Fatal(err)
	}
	return &benchFixture{s: s, token: token, id: id}
}

func BenchmarkTokenBind(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.IDM.Bind(ctx, "dn=token", []byte(f.token)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWhoAmI(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.IDM.WhoAmI(ctx, f.id); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSearch(b *testing.B, filter string, attrs []string, want int) {
	f := newBenchFixture(b)
	ctx := context.Background()
	flt, err := directory.ParseFilter(filter, f.s.IDM.Schema())
	if err != nil {
		b.Fatal(err)
	}
	req := idm.SearchRequest{Base: f.s.IDM.Base(), Scope: directory.ScopeSub, Filter: flt, Attrs: attrs}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_, err := f.s.IDM.Search(ctx, f.id, req, func(e *directory.Entry) error { n++; return nil })
		if err != nil || n != want {
			b.Fatalf("%d entries, %v", n, err)
		}
	}
}

func BenchmarkSearchIndexedEq(b *testing.B) {
	benchSearch(b, "(uid=user500)", []string{"uid", "cn", "sn", "mail"}, 1)
}

func BenchmarkSearchScanSubstring(b *testing.B) {
	benchSearch(b, "(cn=*r 50*)", []string{"uid", "cn", "sn", "mail"}, 11)
}
