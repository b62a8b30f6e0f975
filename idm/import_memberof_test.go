package idm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// memberOfs maps the DN of every entry that has memberOf to its values.
func memberOfs(t *testing.T, svc *idm.Service) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := svc.Export(context.Background(), func(e *directory.Entry) error {
		if v := e.Get("memberOf"); len(v) > 0 {
			out[e.DN.String()] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// groupRecords returns people p0..p(n-1), a group "big" with all of them,
// nested groups (outer holds inner and p3; inner holds p1 and p2), a cycle
// (a holds b and p4, b holds a), a groupOfUniqueNames holding p5
// (uniqueMember confers nothing) and a chain c3 > c2 > c1 > p6.
func groupRecords(n int) []idm.ImportRecord {
	var out []idm.ImportRecord
	add := func(dn string, attrs ...string) {
		out = append(out, record(len(out)+1, dn, attrs...))
	}
	person := func(i int) string { return fmt.Sprintf("uid=p%d,ou=people,%s", i, posixBase) }
	group := func(cn string) string { return "cn=" + cn + ",ou=groups," + posixBase }
	// Groups before their members and after: the file's order must not matter.
	add(group("outer"), "objectClass: groupOfNames", "cn: outer", "member: "+group("inner"), "member: "+person(3))
	big := []string{"objectClass: groupOfNames", "cn: big"}
	for i := range n {
		add(person(i), "objectClass: inetOrgPerson", fmt.Sprintf("uid: p%d", i), fmt.Sprintf("cn: P %d", i), "sn: x")
		big = append(big, "member: "+person(i))
	}
	add(group("big"), big...)
	add(group("inner"), "objectClass: groupOfNames", "cn: inner", "member: "+person(1), "member: "+person(2))
	add(group("a"), "objectClass: groupOfNames", "cn: a", "member: "+group("b"), "member: "+person(4))
	add(group("b"), "objectClass: groupOfNames", "cn: b", "member: "+group("a"))
	add(group("u"), "objectClass: groupOfUniqueNames", "cn: u", "uniqueMember: "+person(5))
	// A chain given innermost first: c3 holds c2, which holds c1, which holds p6.
	add(group("c1"), "objectClass: groupOfNames", "cn: c1", "member: "+person(6))
	add(group("c2"), "objectClass: groupOfNames", "cn: c2", "member: "+group("c1"))
	add(group("c3"), "objectClass: groupOfNames", "cn: c3", "member: "+group("c2"))
	return out
}

// TestImportMemberOfFromFile checks the memberOf that an import derives
// from the groups of the file (a big group, nesting, a cycle), on the bulk
// path and on the path of Adds, in one chunk and in several.
func TestImportMemberOfFromFile(t *testing.T) {
	const n = 600
	recs := groupRecords(n)
	g := func(cn string) string { return "cn=" + cn + ",ou=groups," + posixBase }
	want := map[string][]string{}
	for i := range n {
		want[fmt.Sprintf("uid=p%d,ou=people,%s", i, posixBase)] = []string{g("big")}
	}
	want["uid=p1,ou=people,"+posixBase] = []string{g("big"), g("inner"), g("outer")}
	want["uid=p2,ou=people,"+posixBase] = []string{g("big"), g("inner"), g("outer")}
	want["uid=p3,ou=people,"+posixBase] = []string{g("big"), g("outer")}
	want["uid=p4,ou=people,"+posixBase] = []string{g("a"), g("b"), g("big")}
	want["uid=p6,ou=people,"+posixBase] = []string{g("big"), g("c1"), g("c2"), g("c3")}
	want[g("inner")] = []string{g("outer")}
	want[g("c1")] = []string{g("c2"), g("c3")}
	want[g("c2")] = []string{g("c3")}
	want[g("a")] = []string{g("b")}
	want[g("b")] = []string{g("a")}
	for _, tc := range []struct {
		name  string
		plain bool
		chunk int
	}{{"bulk", false, 0}, {"bulk chunks", false, 100}, {"adds", true, 0}, {"adds chunks", true, 100}} {
		t.Run(tc.name, func(t *testing.T) {
			svc, st, err, _ := importInto(t, tc.plain, tc.chunk, recs)
			if err != nil {
				t.Fatal(err)
			}
			if st.Added != len(recs) {
				t.Fatalf("added %d of %d", st.Added, len(recs))
			}
			got := memberOfs(t, svc)
			for dn, w := range want {
				if !slices.Equal(got[dn], w) {
					t.Errorf("memberOf of %s: %q, want %q", dn, got[dn], w)
				}
			}
			for _, r := range recs {
				dn := r.Entry.DN.String()
				if _, ok := want[dn]; !ok && got[dn] != nil {
					t.Errorf("memberOf of %s: %q, want none", dn, got[dn])
				}
			}
		})
	}
}

// TestImportMemberOfStoredMembers checks an import into a directory that
// holds entries already: existing entries of the file are skipped, and a
// group of the file that names a stored entry gives it memberOf.
func TestImportMemberOfStoredMembers(t *testing.T) {
	first := groupRecords(10)[1:11] // p0..p9, no groups
	svc, _, err, store := importInto(t, false, 0, first)
	if err != nil {
		t.Fatal(err)
	}
	second := groupRecords(20)
	st, err := svc.Import(context.Background(), stacktest.RecordSource(second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 10 || st.Added != len(second)-10 {
		t.Fatalf("skipped %d, added %d; want 10 and %d", len(st.Skipped), st.Added, len(second)-10)
	}
	got := memberOfs(t, svc)
	big := "cn=big,ou=groups," + posixBase
	for _, i := range []int{0, 9, 10, 19} { // stored before, and added now
		dn := fmt.Sprintf("uid=p%d,ou=people,%s", i, posixBase)
		if !slices.Contains(got[dn], big) {
			t.Errorf("memberOf of %s: %q, want %s in it", dn, got[dn], big)
		}
	}
	if err := store.(interface{ Verify(context.Context) error }).Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestImportTooManyGroupsImportsNothing checks that an entry the file puts
// in more than idm.MaxMemberOf groups fails the import before anything is
// written.
func TestImportTooManyGroupsImportsNothing(t *testing.T) {
	recs := groupRecords(1)[1:2] // p0
	for i := range idm.MaxMemberOf + 1 {
		e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("cn=g%d,ou=groups,%s", i, posixBase)))
		e.Set("objectClass", "groupOfNames")
		e.Set("cn", fmt.Sprintf("g%d", i))
		e.Set("member", "uid=p0,ou=people,"+posixBase)
		recs = append(recs, idm.ImportRecord{Entry: e, Line: i + 2})
	}
	svc, st, err, _ := importInto(t, false, 0, recs)
	if !errors.Is(err, directory.ErrAdminLimitExceeded) || st.Added != 0 {
		t.Fatalf("import: %+v, %v; want ErrAdminLimitExceeded and nothing added", st.Added, err)
	}
	if _, ok := memberOfs(t, svc)["uid=p0,ou=people,"+posixBase]; ok {
		t.Fatal("p0 was imported")
	}
}

// TestImportFileChangedBetweenReadings checks that the second reading of
// a file larger than a chunk, whose records are not checked again, refuses
// a record that differs from the first reading's.
func TestImportFileChangedBetweenReadings(t *testing.T) {
	recs := groupRecords(20)[1:21] // p0..p19
	passes := 0
	changing := func() (func() (idm.ImportRecord, error), error) {
		passes++
		next, _ := stacktest.RecordSource(recs)()
		return func() (idm.ImportRecord, error) {
			r, err := next()
			if err == nil && passes == 2 && r.Entry.DN.String() == "uid=p15,ou=people,"+posixBase {
				r.Entry.Set("sn", "changed") // the file was edited between the readings
			}
			return r, err
		}, nil
	}
	svc, _, err, _ := importInto(t, false, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Import(context.Background(), changing, nil)
	if err == nil || !strings.Contains(err.Error(), "changed since it was checked") || passes != 2 {
		t.Fatalf("import of a changed file: %v after %d readings", err, passes)
	}
	if strings.Contains(exportOf(t, svc), "dn: uid=p15,ou=people,") {
		t.Fatal("the changed record was added")
	}
}
