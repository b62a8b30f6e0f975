package idm_test

import (
	"context"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
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
	token := s.SeedPeople(b, benchPeople)
	id, err := s.IDM.Bind(context.Background(), "dn=token", []byte(token))
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
