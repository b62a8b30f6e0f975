package storemigrate_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/storemigrate"
	"github.com/ldapd/ldapd/tokens"
)

func openStore(t *testing.T) directory.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "ldapd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// bootstrapped returns a store holding a new directory of domain.
func bootstrapped(t *testing.T, domain string) directory.Store {
	t.Helper()
	s := openStore(t)
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := idm.New(idm.Config{Store: s, Domain: domain, Keys: keys, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCopy: every entry and the domain reach the destination, in batches
// as small as one entry; a second copy skips them all (the copy resumes);
// a destination holding another domain is refused, and an empty source
// too.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	src, dst := bootstrapped(t, "idm.example.com"), openStore(t)
	st, err := storemigrate.Copy(ctx, src, dst, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added == 0 || st.Skipped != 0 || st.Meta == 0 {
		t.Fatalf("first copy: %+v", st)
	}
	if d, err := idm.StoredDomain(ctx, dst); err != nil || d != "idm.example.com" {
		t.Errorf("destination domain %q, %v", d, err)
	}
	again, err := storemigrate.Copy(ctx, src, dst, 1024)
	if err != nil || again.Added != 0 || again.Skipped != st.Added {
		t.Errorf("second copy: %+v, %v; want every entry skipped", again, err)
	}
	v, _ := directory.As[directory.Verifier](dst)
	if err := v.Verify(ctx); err != nil {
		t.Errorf("destination does not verify: %v", err)
	}
	if _, err := storemigrate.Copy(ctx, src, bootstrapped(t, "other.example.com"), 1024); err == nil ||
		!strings.Contains(err.Error(), "other.example.com") {
		t.Errorf("copy onto another domain's directory: %v", err)
	}
	if _, err := storemigrate.Copy(ctx, openStore(t), openStore(t), 1024); err == nil {
		t.Error("copy of an empty source succeeded")
	}
}
