package idm_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// countingSource is stacktest.RecordSource(recs) that counts its openings in *opens.
func countingSource(recs []idm.ImportRecord, opens *int) idm.ImportSource {
	src := stacktest.RecordSource(recs)
	return func() (func() (idm.ImportRecord, error), error) {
		*opens++
		return src()
	}
}

// emptyDir fails t unless dir holds no file.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("the spool directory holds %v after the import", left[0].Name())
	}
}

// TestImportSpoolReadsOnce checks that a file of more than one chunk is
// read once when the service has a spool directory: its entries come
// back from the spool exactly as a second reading gives them (the same
// directory as the Adds path), and the spool is gone afterwards.
func TestImportSpoolReadsOnce(t *testing.T) {
	recs := importRecords(40)
	want, wantSt, err, _ := importInto(t, true, 7, recs)
	if err != nil {
		t.Fatal(err)
	}
	// A parent DN with an escaped comma and a multi-valued RDN: the DNs
	// the spool does not rebuild from a cached parent.
	spool := t.TempDir()
	opens := 0
	got, gotSt, err, store := importSpooled(t, false, 7, spool, countingSource(recs, &opens), len(recs))
	if err != nil {
		t.Fatal(err)
	}
	if opens != 1 {
		t.Errorf("the file was read %d times, want once", opens)
	}
	if fmt.Sprint(gotSt) != fmt.Sprint(wantSt) {
		t.Errorf("stats %+v, want %+v", gotSt, wantSt)
	}
	if g, w := exportOf(t, got), exportOf(t, want); g != w {
		t.Errorf("spooled import:\n%s\nimport by Adds:\n%s", g, w)
	}
	if err := store.(interface{ Verify(context.Context) error }).Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	emptyDir(t, spool)
}

// TestImportSpoolOddDNs checks DNs the spool stores whole (a multi-valued
// RDN) or under a parent spelled with escapes.
func TestImportSpoolOddDNs(t *testing.T) {
	recs := importRecords(10)
	add := func(dn string, attrs ...string) {
		recs = append(recs, record(len(recs)+1, dn, attrs...))
	}
	add(`ou=a\, b+description=x,`+posixBase, "objectClass: organizationalUnit", "ou: a, b", "description: x")
	add(`cn=c \+ d,ou=a\, b+description=x,`+posixBase, "objectClass: organizationalRole", "cn: c + d")
	add(`cn=e,ou=a\, b+description=x,`+posixBase, "objectClass: organizationalRole", "cn: e")
	want, _, err, _ := importInto(t, true, 3, recs)
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	got, _, err, _ := importSpooled(t, false, 3, spool, stacktest.RecordSource(recs), len(recs))
	if err != nil {
		t.Fatal(err)
	}
	g, w := exportOf(t, got), exportOf(t, want)
	if g != w || !strings.Contains(g, `dn: cn=c \+ d,ou=a\, b+description=x,`) {
		t.Errorf("spooled import:\n%s\nimport by Adds:\n%s", g, w)
	}
	emptyDir(t, spool)
}

// TestImportSpoolRemovedOnFailure checks that a bad record found after
// the spool was started fails the import, imports nothing and leaves no
// spool behind.
func TestImportSpoolRemovedOnFailure(t *testing.T) {
	recs := importRecords(20)
	recs = append(recs, badRecord())
	spool := t.TempDir()
	svc, st, err, _ := importSpooled(t, false, 7, spool, stacktest.RecordSource(recs), len(recs))
	if err == nil || !strings.Contains(err.Error(), "line 9999") || st.Added != 0 {
		t.Fatalf("import: %+v, %v", st, err)
	}
	if strings.Contains(exportOf(t, svc), "uid=p1,") {
		t.Fatal("part of the file was imported")
	}
	emptyDir(t, spool)
}
