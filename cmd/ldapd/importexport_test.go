package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldif"
)

func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	env := &env{stdout: &o, stderr: &e, getenv: func(string) string { return "" }}
	code = run(context.Background(), env, args)
	return o.String(), e.String(), code
}

const slapcatLDIF = `version: 1

dn: dc=idm,dc=example,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: idm
o: idm
structuralObjectClass: organization
entryCSN: 20240101000000.000000Z#000000#000#000000

dn: ou=people,dc=idm,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=jo,ou=people,dc=idm,dc=example,dc=com
objectClass: inetOrgPerson
uid: jo
cn: Jo
sn: Smith
mail: jo@example.com
userPassword: {SSHA}SXQ=
entryUUID: 5f1e3c9a-1111-4222-8333-944455556666
createTimestamp: 20200101000000Z
entryCSN: 20240101000000.000000Z#000000#000#000000
pwdChangedTime: 20200101000000Z

dn: uid=crypt,ou=people,dc=idm,dc=example,dc=com
objectClass: inetOrgPerson
uid: crypt
cn: Crypt
sn: User
userPassword: {CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1

dn: ou=extra,dc=idm,dc=example,dc=com
objectClass: organizationalUnit
ou: extra

dn: cn=readers,ou=groups,dc=idm,dc=example,dc=com
objectClass: groupOfNames
cn: readers
member: uid=jo,ou=people,dc=idm,dc=example,dc=com
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openSvc(t *testing.T, data string) (*idm.Service, func()) {
	t.Helper()
	store, keys, err := datastore.OpenBolt(data, boltstore.Options{Timeout: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := idm.New(idm.Config{Store: store, Domain: "idm.example.com", Keys: keys, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return svc, func() { store.Close() }
}

func TestImportSlapcat(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := runCmd(t, "import", "--data", data, "--domain", "idm.example.com", writeFile(t, "in.ldif", slapcatLDIF))
	if code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	// The base entry and ou=people are built-in: merged (the domain
	// entry keeps its structural class; RFC 4524 lets it hold o).
	if !strings.Contains(out, "imported 4 entries (2 built-in merged, 0 skipped)") || !strings.Contains(errOut, "merged 2 built-in entries") {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	svc, done := openSvc(t, data)
	defer done()
	ctx := context.Background()
	// The legacy hashes bind, and the first bind rehashes them to argon2id.
	for name, pw := range map[string]string{"crypt": "secret"} {
		if _, err := svc.Bind(ctx, name, []byte(pw)); err != nil {
			t.Fatalf("bind %s: %v", name, err)
		}
	}
	got := map[string]*directory.Entry{}
	err := svc.Export(ctx, func(e *directory.Entry) error { got[e.DN.Norm()] = e; return nil })
	if err != nil {
		t.Fatal(err)
	}
	jo := got[directory.MustParseDN("uid=jo,ou=people,dc=idm,dc=example,dc=com").Norm()]
	if jo == nil {
		t.Fatal("jo not imported")
	}
	if jo.First("entryUUID") != "5f1e3c9a-1111-4222-8333-944455556666" || jo.First("createTimestamp") != "20200101000000Z" {
		t.Errorf("imported operational values not kept: %v", jo.Attrs)
	}
	if jo.Has("entryCSN") || jo.Has("pwdChangedTime") {
		t.Errorf("OpenLDAP state kept: %v", jo.Attrs)
	}
	if jo.First("spn") != "jo@idm.example.com" || !strings.HasPrefix(jo.First("userPassword"), "{SSHA}") {
		t.Errorf("jo = %v", jo.Attrs)
	}
	if mo := jo.Get("memberOf"); len(mo) != 1 || !strings.HasPrefix(strings.ToLower(mo[0]), "cn=readers,") {
		t.Errorf("memberOf = %q", mo)
	}
	crypt := got[directory.MustParseDN("uid=crypt,ou=people,dc=idm,dc=example,dc=com").Norm()]
	if pw := crypt.First("userPassword"); !strings.HasPrefix(pw, "{ARGON2}") {
		t.Errorf("crypt password not rehashed after bind: %q", pw)
	}
	if _, err := svc.Bind(ctx, "crypt", []byte("secret")); err != nil {
		t.Errorf("bind after rehash: %v", err)
	}
}

func TestImportBadRecordImportsNothing(t *testing.T) {
	for _, tc := range []struct{ name, ldif, want string }{
		{"syntax", slapcatLDIF + "\ndn: uid=x,ou=people,dc=idm,dc=example,dc=com\nobjectClass inetOrgPerson\n", "line 45"},
		{"schema", slapcatLDIF + "\ndn: uid=x,ou=people,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: x\ncn: x\n", "line 44"},
		{"no parent", slapcatLDIF + "\ndn: uid=x,ou=nowhere,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: x\ncn: x\nsn: x\n", "line 44"},
		{"outside base", slapcatLDIF + "\ndn: dc=other,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: other\no: x\n", "line 44"},
		{"duplicate uid", slapcatLDIF + "\ndn: uid=jo,ou=extra,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: jo\ncn: x\nsn: x\n", "line 44"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			_, errOut, code := runCmd(t, "import", "--data", data, "--domain", "idm.example.com", writeFile(t, "in.ldif", tc.ldif))
			if code == 0 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "nothing imported") {
				t.Fatalf("code %d, stderr %q, want %q", code, errOut, tc.want)
			}
			if countEntries(t, data, func(dn string) bool { return strings.Contains(dn, "uid=jo") }) != 0 {
				t.Fatal("part of the file was imported")
			}
		})
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	src := t.TempDir()
	var b strings.Builder
	b.WriteString(slapcatLDIF)
	for i := range 2500 { // more than one import transaction
		fmt.Fprintf(&b, "\ndn: uid=u%d,ou=people,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: u%d\ncn: U %d\nsn: %d\ndescription:: %s\n",
			i, i, i, i, "w6ljb2xlIA==")
	}
	if _, errOut, code := runCmd(t, "import", "--data", src, "--domain", "idm.example.com", writeFile(t, "in.ldif", b.String())); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	exported := filepath.Join(t.TempDir(), "out.ldif")
	if _, errOut, code := runCmd(t, "export", "--data", src, "-o", exported); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	dst := t.TempDir()
	out, errOut, code := runCmd(t, "import", "--data", dst, "--domain", "idm.example.com", exported)
	if code != 0 {
		t.Fatalf("re-import: %s", errOut)
	}
	if !strings.Contains(out, "imported 2504 entries") {
		t.Errorf("re-import: %s", out)
	}
	again := filepath.Join(t.TempDir(), "again.ldif")
	if _, errOut, code := runCmd(t, "export", "--data", dst, "-o", again); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	// Every imported entry comes back the same (the built-in entries of
	// each directory differ: their UUIDs and timestamps are their own).
	first, second := readLDIF(t, exported), readLDIF(t, again)
	for dn, rec := range first {
		if !strings.Contains(dn, "u1") && !strings.Contains(dn, "uid=jo") && !strings.Contains(dn, "readers") {
			continue
		}
		if got := second[dn]; fmt.Sprint(got) != fmt.Sprint(rec) {
			t.Errorf("%s:\n%v\n%v", dn, rec, got)
		}
	}
}

func readLDIF(t *testing.T, path string) map[string][]ldif.Attr {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := ldif.NewReader(f)
	out := map[string][]ldif.Attr{}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		out[rec.DN] = rec.Attrs
	}
	return out
}

// TestImportChunk: --chunk adds the entries a few per transaction from a
// second reading of the file, with the same all-or-nothing check first.
func TestImportChunk(t *testing.T) {
	var b strings.Builder
	b.WriteString(slapcatLDIF)
	for i := range 40 {
		fmt.Fprintf(&b, "\ndn: uid=chunk%d,ou=people,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: chunk%d\ncn: c\nsn: c\nuserPassword: {SSHA}c2VjcmV0%d\n", i, i, i)
	}
	good := b.String()
	bad := good + "\ndn: uid=last,ou=people,dc=idm,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: last\ncn: x\n"
	count := func(t *testing.T, data string) int {
		return countEntries(t, data, func(dn string) bool { return strings.HasPrefix(dn, "uid=chunk") })
	}
	data := t.TempDir()
	if _, errOut, code := runCmd(t, "import", "--chunk", "7", "--data", data, "--domain", "idm.example.com", writeFile(t, "bad.ldif", bad)); code == 0 || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("bad file: code %d, stderr %q", code, errOut)
	}
	if n := count(t, data); n != 0 {
		t.Fatalf("a bad file with --chunk 7 imported %d entries, want none", n)
	}
	out, errOut, code := runCmd(t, "import", "--chunk", "7", "--data", data, writeFile(t, "good.ldif", good))
	if code != 0 {
		t.Fatalf("import --chunk 7: code %d, stderr %q", code, errOut)
	}
	if n := count(t, data); n != 40 || !strings.Contains(out, "imported 44 entries") {
		t.Fatalf("import --chunk 7: %d entries stored, output %q; want 40", n, out)
	}
	if _, errOut, code := runCmd(t, "import", "--chunk", "-1", "--data", data, writeFile(t, "good.ldif", good)); code == 0 {
		t.Fatalf("--chunk -1 accepted: stderr %q", errOut)
	}
}

// TestExportImportBuiltinsRoundTrip: export, then import into a new
// directory, gives back the same directory, built-in entries included:
// members added to system_admins and idm_people_pii_read and the admin
// password survive, memberOf is derived again, and a second export is
// identical to the first (issue #19 item 5).
func TestExportImportBuiltinsRoundTrip(t *testing.T) {
	src := t.TempDir()
	if _, errOut, code := runCmd(t, "import", "--data", src, "--domain", "idm.example.com", writeFile(t, "in.ldif", slapcatLDIF)); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	ctx := context.Background()
	jo := "uid=jo,ou=people,dc=idm,dc=example,dc=com"
	svc, done := openSvc(t, src)
	for _, g := range []string{"system_admins", "idm_people_pii_read"} {
		dn := directory.MustParseDN("cn=" + g + ",ou=groups,dc=idm,dc=example,dc=com")
		if err := svc.Modify(ctx, idm.RootIdentity(), dn, []directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{jo}}}); err != nil {
			t.Fatalf("add jo to %s: %v", g, err)
		}
	}
	adminPW, err := svc.RecoverAccount(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	done()
	exported := filepath.Join(t.TempDir(), "out.ldif")
	if _, errOut, code := runCmd(t, "export", "--data", src, "-o", exported); code != 0 {
		t.Fatalf("export: %s", errOut)
	}

	// The new directory exists (and has its own built-ins) before the
	// import, as after a first start.
	dst := t.TempDir()
	if _, errOut, code := runCmd(t, "import", "--data", dst, "--domain", "idm.example.com", writeFile(t, "empty.ldif", "version: 1\n")); code != 0 {
		t.Fatalf("create the new directory: %s", errOut)
	}
	fresh := filepath.Join(t.TempDir(), "fresh.ldif")
	if _, errOut, code := runCmd(t, "export", "--data", dst, "-o", fresh); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	builtins := len(readLDIF(t, fresh)) // what a first start makes
	out, errOut, code := runCmd(t, "import", "--data", dst, exported)
	if code != 0 {
		t.Fatalf("import of the export: %s", errOut)
	}
	if want := fmt.Sprintf("(%d built-in merged, 0 skipped)", builtins); builtins < 14 || !strings.Contains(out, want) {
		t.Errorf("import: %q %q, want every built-in entry merged: %s", out, errOut, want)
	}
	again := filepath.Join(t.TempDir(), "again.ldif")
	if _, errOut, code := runCmd(t, "export", "--data", dst, "-o", again); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	first, second := readLDIF(t, exported), readLDIF(t, again)
	if len(first) != len(second) {
		t.Errorf("%d entries exported, %d after the round trip", len(first), len(second))
	}
	for dn, rec := range first {
		if got := second[dn]; fmt.Sprint(sortedAttrs(got)) != fmt.Sprint(sortedAttrs(rec)) {
			t.Errorf("%s differs after the round trip:\n%v\n%v", dn, sortedAttrs(rec), sortedAttrs(got))
		}
	}
	// The effects: the admin password binds, jo is in both groups.
	svc, done = openSvc(t, dst)
	if _, err := svc.Bind(ctx, "admin", []byte(adminPW)); err != nil {
		t.Errorf("admin's password after the round trip: %v", err)
	}
	var joEntry *directory.Entry
	_ = svc.Export(ctx, func(e *directory.Entry) error {
		if e.DN.Equal(directory.MustParseDN(jo)) {
			joEntry = e
		}
		return nil
	})
	mo := strings.ToLower(strings.Join(joEntry.Get("memberOf"), ";"))
	for _, g := range []string{"cn=system_admins,", "cn=idm_people_pii_read,", "cn=readers,"} {
		if !strings.Contains(mo, g) {
			t.Errorf("jo's memberOf %q lacks %s", mo, g)
		}
	}
	done()
	// Importing the same file again changes nothing and fails nothing.
	if out, errOut, code := runCmd(t, "import", "--data", dst, exported); code != 0 || !strings.Contains(out, "imported 0 entries") {
		t.Errorf("second import: exit %d %q %q", code, out, errOut)
	}
}

// sortedAttrs orders an LDIF record's attributes and values, for
// comparing two exports of the same directory.
func sortedAttrs(attrs []ldif.Attr) []string {
	var out []string
	for _, a := range attrs {
		vals := append([]string(nil), a.Values...)
		slices.Sort(vals)
		out = append(out, strings.ToLower(a.Name)+"="+strings.Join(vals, "|"))
	}
	slices.Sort(out)
	return out
}

// countEntries counts the entries of the stopped directory data whose
// normalized DN match takes.
func countEntries(t *testing.T, data string, match func(dn string) bool) int {
	t.Helper()
	svc, done := openSvc(t, data)
	defer done()
	n := 0
	_ = svc.Export(context.Background(), func(e *directory.Entry) error {
		if match(e.DN.Norm()) {
			n++
		}
		return nil
	})
	return n
}
