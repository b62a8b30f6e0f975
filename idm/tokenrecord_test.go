package idm_test

// The cap on API tokens per service account (Config.MaxTokensPerAccount):
// generating past it answers adminLimitExceeded with a message naming the
// cap and the way out, counts only the account's own token records, and
// holds under concurrent generates.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

const capBase = "dc=idm,dc=example,dc=com"

// newCappedService is a Service over a fresh bbolt file whose service
// accounts may hold limit tokens.
func newCappedService(t *testing.T, limit int) (*idm.Service, directory.Store) {
	t.Helper()
	store := stacktest.OpenStore(t)
	svc := stacktest.NewService(t, idm.Config{Store: store, Logger: zerolog.Nop(),
		Hasher: password.NewHasher(password.TestParams(), nil, 0), MaxTokensPerAccount: limit})
	return svc, store
}

func addServiceAccount(t *testing.T, svc *idm.Service, name string) directory.DN {
	t.Helper()
	e := directory.NewEntry(directory.MustParseDN("uid=" + name + ",ou=services," + capBase))
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", name)
	e.Set(directory.AttrEntryManagedBy, "cn=idm_admins,ou=groups,"+capBase)
	if err := svc.Add(context.Background(), idm.RootIdentity(), e); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return e.DN
}

func generateAs(svc *idm.Service, account string) (string, tokens.ID, error) {
	return svc.GenerateToken(context.Background(), idm.RootIdentity(), account, "cap test", time.Time{}, tokens.ReadOnly)
}

// tokenRecords counts the ldapdApiToken children of account in the store.
func tokenRecords(t *testing.T, store directory.Store, s *directory.Schema, account directory.DN) int {
	t.Helper()
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: "objectClass", Value: directory.ClassAPIToken}
	if err := f.Resolve(s); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := store.View(context.Background(), func(tx directory.ReadTx) error {
		return tx.Search(account, directory.ScopeOne, f, func(*directory.Entry) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTokenCap(t *testing.T) {
	const limit = 3
	svc, store := newCappedService(t, limit)
	ctx := context.Background()
	a := addServiceAccount(t, svc, "capped")
	b := addServiceAccount(t, svc, "other")

	// Entries under the account that are not its token records do not
	// count: a child of another class, a token record one level deeper.
	err := store.Update(ctx, func(tx directory.WriteTx) error {
		c := directory.NewEntry(a.Child(directory.NewRDN(directory.AVA{Type: "cn", Value: "child"})))
		c.Set("objectClass", "top", "applicationProcess")
		c.Set("cn", "child")
		if err := tx.Add(c); err != nil {
			return err
		}
		deep := directory.NewEntry(c.DN.Child(directory.NewRDN(directory.AVA{Type: directory.AttrTokenID, Value: "00000000-0000-4000-8000-000000000001"})))
		deep.Set("objectClass", "top", directory.ClassAPIToken)
		deep.Set(directory.AttrTokenID, "00000000-0000-4000-8000-000000000001")
		return tx.Add(deep)
	})
	if err != nil {
		t.Fatal(err)
	}

	var ids []tokens.ID
	for i := range limit {
		tok, id, err := generateAs(svc, "capped")
		if err != nil {
			t.Fatalf("token %d of %d: %v", i+1, limit, err)
		}
		if _, err := svc.Bind(ctx, "dn=token", []byte(tok)); err != nil {
			t.Fatalf("token %d does not bind: %v", i+1, err)
		}
		ids = append(ids, id)
	}
	_, _, err = generateAs(svc, "capped")
	if !errors.Is(err, directory.ErrAdminLimitExceeded) {
		t.Fatalf("token %d: err = %v, want ErrAdminLimitExceeded", limit+1, err)
	}
	for _, want := range []string{"capped already holds the most API tokens a service account may have (3, --max-tokens-per-account)", "destroy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
	if n := tokenRecords(t, store, svc.Schema(), a); n != limit {
		t.Fatalf("capped holds %d records after the refusal, want %d", n, limit)
	}

	// Another account has its own allowance.
	if _, _, err := generateAs(svc, "other"); err != nil {
		t.Fatalf("other account: %v", err)
	}
	if n := tokenRecords(t, store, svc.Schema(), b); n != 1 {
		t.Fatalf("other holds %d records, want 1", n)
	}

	// Destroying a token makes room for one more.
	rec := a.Child(directory.NewRDN(directory.AVA{Type: directory.AttrTokenID, Value: ids[0].String()}))
	if err := svc.Delete(ctx, idm.RootIdentity(), rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := generateAs(svc, "capped"); err != nil {
		t.Fatalf("after destroying one: %v", err)
	}
	if _, _, err := generateAs(svc, "capped"); !errors.Is(err, directory.ErrAdminLimitExceeded) {
		t.Fatalf("past the cap again: err = %v, want ErrAdminLimitExceeded", err)
	}
}

// Concurrent generates cannot overshoot the cap together: the count is
// taken in the write transaction.
func TestTokenCapConcurrent(t *testing.T) {
	const limit, tries = 3, 12
	svc, store := newCappedService(t, limit)
	a := addServiceAccount(t, svc, "busy")
	var wg sync.WaitGroup
	errs := make([]error, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = generateAs(svc, "busy")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, directory.ErrAdminLimitExceeded):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != limit {
		t.Errorf("%d of %d concurrent generates succeeded, want %d", ok, tries, limit)
	}
	if n := tokenRecords(t, store, svc.Schema(), a); n != limit {
		t.Errorf("busy holds %d records, want %d", n, limit)
	}
}
