package idm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportLDIFReadsFileAndExportsBack checks that ImportLDIF adds the
// records of a file (reporting growing offsets), that a bad DN fails with
// its line number, and that ExportLDIF writes what was imported.
func TestImportLDIFReadsFileAndExportsBack(t *testing.T) {
	svc, _, err, _ := importInto(t, false, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "in.ldif")
	file := "dn: ou=extra," + posixBase + "\nobjectClass: organizationalUnit\nou: extra\n\n" +
		"dn: uid=q,ou=extra," + posixBase + "\nobjectClass: inetOrgPerson\nuid: q\ncn: q\nsn: q\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	var last int64
	st, err := svc.ImportLDIF(ctx, path, func(pass, n int, offset int64) {
		if offset < last && pass == 1 {
			t.Errorf("offset went back: %d after %d", offset, last)
		}
		last = offset
	})
	if err != nil || st.Added != 2 {
		t.Fatalf("ImportLDIF: %+v, %v; want 2 added", st, err)
	}
	if last == 0 {
		t.Error("progress never saw an offset")
	}
	var out strings.Builder
	if err := svc.ExportLDIF(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dn: uid=q,ou=extra,"+posixBase+"\n") {
		t.Errorf("export lacks the imported entry:\n%s", out.String())
	}

	bad := filepath.Join(dir, "bad.ldif")
	if err := os.WriteFile(bad, []byte("dn: ou=x,"+posixBase+"\nou: x\nobjectClass: organizationalUnit\n\ndn: not a dn\nou: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportLDIF(ctx, bad, nil); err == nil || !strings.Contains(err.Error(), "line 5: dn \"not a dn\"") {
		t.Errorf("bad DN: %v, want its line 5", err)
	}
	if _, err := svc.ImportLDIF(ctx, filepath.Join(dir, "missing.ldif"), nil); err == nil {
		t.Error("a missing file imported")
	}
}
