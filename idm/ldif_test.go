package idm_test

import (
	"fmt"

	"context"
	"github.com/ldapd/ldapd/directory"
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

// TestImportLDIFFirstBadRecordWins: records are parsed on several
// goroutines, but the error is the first bad record's in file order
// (a bad DN, then a bad base64 value, then an unknown class, in both
// orders), and nothing of the file is added — with AddBulk and without.
func TestImportLDIFFirstBadRecordWins(t *testing.T) {
	person := func(i int) string {
		return fmt.Sprintf("dn: uid=b%d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: b%d\ncn: B\nsn: b\n\n", i, posixBase, i)
	}
	bads := map[string]string{
		"dn":     "dn: not a dn\nou: y\n\n",
		"base64": fmt.Sprintf("dn: uid=x,ou=people,%s\ncn:: !!!\n\n", posixBase),
		"class":  fmt.Sprintf("dn: uid=y,ou=people,%s\nobjectClass: noSuchClass\nuid: y\n\n", posixBase),
	}
	wants := map[string]string{"dn": `dn "not a dn"`, "base64": "bad base64", "class": "noSuchClass"}
	for _, plain := range []bool{false, true} {
		for _, order := range [][2]string{{"dn", "base64"}, {"base64", "class"}, {"class", "dn"}} {
			t.Run(fmt.Sprintf("plain=%v/%s-then-%s", plain, order[0], order[1]), func(t *testing.T) {
				svc, _, err, store := importInto(t, plain, 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				line, wantLine := 1, 0
				for i := range 3000 {
					if i == 1200 || i == 2500 {
						bad := bads[order[0]]
						if i == 2500 {
							bad = bads[order[1]]
						} else {
							wantLine = line
						}
						b.WriteString(bad)
						line += strings.Count(bad, "\n")
						continue
					}
					p := person(i)
					b.WriteString(p)
					line += strings.Count(p, "\n")
				}
				path := filepath.Join(t.TempDir(), "in.ldif")
				if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err = svc.ImportLDIF(context.Background(), path, nil)
				if err == nil || !strings.Contains(err.Error(), wants[order[0]]) {
					t.Fatalf("error %v, want the %s record's", err, order[0])
				}
				// The DN and base64 errors name their own line; the class
				// error names the record's.
				if want := fmt.Sprintf("line %d", wantLine); order[0] != "base64" && !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want %s", err, want)
				}
				if err := store.View(context.Background(), func(tx directory.ReadTx) error {
					_, err := tx.Get(directory.MustParseDN("uid=b0,ou=people," + posixBase))
					return err
				}); err == nil {
					t.Error("the first record was added")
				}
			})
		}
	}
}
