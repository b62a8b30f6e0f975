package idm_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// plainStore hides boltstore's AddBulk, so that Import takes the path of
// stores without it (etcd): a second reading, Adds in Update
// transactions.
type plainStore struct{ directory.Store }

// importRecords is a small slapcat-like file: a container, people with
// hashed, plaintext and no passwords, groups (one nested, one managing a
// service account), the existing ou=people, and OpenLDAP state to drop.
func importRecords(n int) []idm.ImportRecord {
	var out []idm.ImportRecord
	add := func(dn string, attrs ...string) {
		out = append(out, record(10*(len(out)+1), dn, attrs...))
	}
	add("ou=people,"+posixBase, "objectClass: organizationalUnit", "ou: people")
	add("ou=extra,"+posixBase, "objectClass: organizationalUnit", "ou: extra", "entryCSN: 1")
	for i := range n {
		pw := fmt.Sprintf("{SSHA}c2VjcmV0%d", i)
		if i%4 == 0 {
			pw = fmt.Sprintf("plain-%d", i)
		}
		add(fmt.Sprintf("uid=p%d,ou=people,%s", i, posixBase), "objectClass: inetOrgPerson",
			fmt.Sprintf("uid: p%d", i), fmt.Sprintf("cn: P %d", i), "sn: x", "userPassword: "+pw,
			"entryCSN: 20240101000000.000000Z#000000#000#000000", "pwdChangedTime: 20200101000000Z")
	}
	add("cn=inner,ou=groups,"+posixBase, "objectClass: groupOfNames", "cn: inner",
		"member: uid=p1,ou=people,"+posixBase, "member: uid=p2,ou=people,"+posixBase)
	add("cn=outer,ou=groups,"+posixBase, "objectClass: groupOfNames", "cn: outer",
		"member: cn=inner,ou=groups,"+posixBase, "member: uid=p3,ou=people,"+posixBase)
	add("uid=svc,ou=services,"+posixBase, "objectClass: ldapdServiceAccount", "uid: svc", "displayName: Svc",
		"entryManagedBy: cn=outer,ou=groups,"+posixBase)
	add("uid=q,ou=extra,"+posixBase, "objectClass: inetOrgPerson", "uid: q", "cn: q", "sn: q")
	return out
}

// record is an import record of dn at line, with attributes given as
// "name: value" strings.
func record(line int, dn string, attrs ...string) idm.ImportRecord {
	e := directory.NewEntry(directory.MustParseDN(dn))
	for _, a := range attrs {
		name, value, _ := strings.Cut(a, ": ")
		e.Add(name, value)
	}
	return idm.ImportRecord{Entry: e, Line: line}
}

// badRecord is a person without cn and sn (the schema requires both), at
// line 9999.
func badRecord() idm.ImportRecord {
	return record(9999, "uid=bad,ou=people,"+posixBase, "objectClass: inetOrgPerson", "uid: bad")
}

// importInto bootstraps a fresh store (hiding AddBulk if plain) with
// deterministic UUIDs and clock, imports recs and returns the service,
// the stats, the error and the store.
func importInto(t *testing.T, plain bool, chunk int, recs []idm.ImportRecord) (*idm.Service, idm.ImportStats, error, directory.Store) {
	t.Helper()
	return importSpooled(t, plain, chunk, "", stacktest.RecordSource(recs), len(recs))
}

// importSpooled is importInto with Config.ImportSpoolDir spool, reading
// the n records of src.
func importSpooled(t *testing.T, plain bool, chunk int, spool string, src idm.ImportSource, n int) (*idm.Service, idm.ImportStats, error, directory.Store) {
	t.Helper()
	wrap := func(s directory.Store) directory.Store { return s }
	if plain {
		wrap = func(s directory.Store) directory.Store { return plainStore{s} }
	}
	return importWith(t, importSetup{chunk: chunk, spool: spool, wrap: wrap}, src, n)
}

// importSetup is how importWith opens its store and service.
type importSetup struct {
	chunk     int
	spool     string
	exclusive bool                                  // boltstore.Options.Exclusive: imports through a load
	wrap      func(directory.Store) directory.Store // nil: none
}

// importWith is importSpooled with the store opened and wrapped as set
// says.
func importWith(t *testing.T, set importSetup, src idm.ImportSource, n int) (*idm.Service, idm.ImportStats, error, directory.Store) {
	t.Helper()
	chunk, spool := set.chunk, set.spool
	// 1 MiB: a load's small Adds join in memory, 2048 entries make a run.
	bolt, err := boltstore.Open(t.TempDir()+"/ldapd.db", boltstore.Options{Exclusive: set.exclusive, LoadMemory: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	store := bolt
	if set.wrap != nil {
		store = set.wrap(bolt)
	}
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc, err := idm.New(idm.Config{Store: store, Domain: "idm.example.com", Keys: keys, Logger: zerolog.Nop(),
		Hasher: password.NewHasher(password.TestParams(), nil, 0), ImportChunk: chunk, ImportSpoolDir: spool,
		Now: func() time.Time { return now }, Rand: rand.NewChaCha8([32]byte{1})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	var pass1, pass2 int
	st, err := svc.Import(ctx, src, func(pass, n int) {
		if pass == 1 {
			pass1 = n
		} else {
			pass2 = n
		}
	})
	if err == nil && (pass1 != n || pass2 != st.Added) {
		t.Errorf("progress: %d and %d, want %d and %d", pass1, pass2, n, st.Added)
	}
	return svc, st, err, bolt
}

// exportOf lists every entry, with argon2id hashes (salted) reduced to
// their scheme and entryUUIDs masked.
func exportOf(t *testing.T, svc *idm.Service) string {
	t.Helper()
	var b strings.Builder
	err := svc.Export(context.Background(), func(e *directory.Entry) error {
		fmt.Fprintf(&b, "dn: %s\n", e.DN)
		for _, a := range e.Attrs {
			for _, v := range a.Values {
				if strings.HasPrefix(v, "{ARGON2}") {
					v = "{ARGON2}"
				}
				if strings.EqualFold(a.Name, "entryUUID") {
					v = "(random)" // the paths draw them in different orders
				}
				fmt.Fprintf(&b, "%s: %s\n", a.Name, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestImportBulkLikeAdds checks that the bulk path (boltstore's AddBulk,
// in one transaction or several, from kept entries or a second reading)
// leaves the directory exactly as the path of Adds in Update transactions.
func TestImportBulkLikeAdds(t *testing.T) {
	recs := importRecords(40)
	for _, chunk := range []int{0, 7} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) {
			want, wantSt, err, _ := importInto(t, true, chunk, recs)
			if err != nil {
				t.Fatal(err)
			}
			got, gotSt, err, store := importInto(t, false, chunk, recs)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(gotSt) != fmt.Sprint(wantSt) || gotSt.Added != len(recs)-1 || len(gotSt.Merged) != 1 ||
				gotSt.Dropped["entryCSN"] != 41 || gotSt.Dropped["pwdChangedTime"] != 40 {
				t.Errorf("stats %+v, want %+v", gotSt, wantSt)
			}
			g, w := exportOf(t, got), exportOf(t, want)
			if g != w {
				t.Errorf("bulk import:\n%s\nimport by Adds:\n%s", g, w)
			}
			for _, s := range []string{"uid=p1,", "memberOf: cn=outer,ou=groups", "{SSHA}c2VjcmV0", "userPassword: {ARGON2}"} {
				if !strings.Contains(g, s) {
					t.Errorf("export lacks %q", s)
				}
			}
			if err := store.(interface{ Verify(context.Context) error }).Verify(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestImportBulkBadRecordImportsNothing checks that a bad record after
// more than one chunk of good ones fails the import with its line and
// leaves the store as it was.
func TestImportBulkBadRecordImportsNothing(t *testing.T) {
	recs := importRecords(20)
	recs = append(recs, badRecord())
	svc, st, err, _ := importInto(t, false, 7, recs)
	if err == nil || !strings.Contains(err.Error(), "line 9999") || st.Added != 0 {
		t.Fatalf("import: %+v, %v", st, err)
	}
	if out := exportOf(t, svc); strings.Contains(out, "uid=p1,") || strings.Contains(out, "ou=extra") {
		t.Fatal("part of the file was imported")
	}
}
