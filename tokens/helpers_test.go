package tokens_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

// t0 is the fixed "now" of most tests.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// testRand is a deterministic random source, so keys, key ids and token
// IDs are the same on every run.
func testRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// lookup finds a token's record as the directory layer does (by the token
// ID and account the claims name), for the tests' verify.
type lookup interface {
	LookupToken(ctx context.Context, c tokens.Claims) (tokens.Record, error)
}

type lookupFunc func(ctx context.Context, c tokens.Claims) (tokens.Record, error)

func (f lookupFunc) LookupToken(ctx context.Context, c tokens.Claims) (tokens.Record, error) {
	return f(ctx, c)
}

// verify is a whole token check as idm runs it: Parse, the record read by
// key, Check. When the signature verified, the claims are returned even on
// failure; the record only on success.
func verify(v *tokens.Verifier, store lookup, token string) (tokens.Claims, tokens.Record, error) {
	c, err := v.Parse(token)
	if err != nil {
		return tokens.Claims{}, tokens.Record{}, err
	}
	rec, err := store.LookupToken(context.Background(), c)
	if err != nil {
		return c, tokens.Record{}, fmt.Errorf("token %s: lookup: %w", c.TokenID, err)
	}
	if err := v.Check(c, rec); err != nil {
		return c, tokens.Record{}, err
	}
	return c, rec, nil
}

// memStore is an in-memory record store, as the directory layer would be.
type memStore struct {
	mu   sync.RWMutex
	recs map[tokens.ID]tokens.Record
	err  error // when set, every lookup fails with it
}

func newMemStore() *memStore { return &memStore{recs: make(map[tokens.ID]tokens.Record)} }

func (s *memStore) LookupToken(_ context.Context, c tokens.Claims) (tokens.Record, error) {
	id := c.TokenID
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.err != nil {
		return tokens.Record{}, s.err
	}
	rec, ok := s.recs[id]
	if !ok {
		return tokens.Record{}, fmt.Errorf("no record for %s: %w", id, tokens.ErrRevoked)
	}
	return rec, nil
}

func (s *memStore) put(rec tokens.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs[rec.ID] = rec
}

func (s *memStore) remove(id tokens.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
}

// clock is an injectable clock that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// env is a keyring, a store, a clock and an Issuer and Verifier over them.
type env struct {
	keys     *tokens.Keyring
	store    *memStore
	clock    *clock
	issuer   *tokens.Issuer
	verifier *tokens.Verifier
}

func newEnv(t testing.TB) *env {
	t.Helper()
	keys, err := tokens.NewKeyring(testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{keys: keys, store: newMemStore(), clock: &clock{t: t0}}
	e.issuer = &tokens.Issuer{Keys: keys, Rand: testRand(2), Now: e.clock.Now}
	e.verifier = &tokens.Verifier{Keys: keys, Now: e.clock.Now}
	return e
}

// issue issues a token and stores its record.
func (e *env) issue(t testing.TB, account [16]byte, purpose tokens.Purpose, expiry time.Time) (string, tokens.Record) {
	t.Helper()
	tok, rec, err := e.issuer.Issue(account, "test token", purpose, expiry, "idm_admin")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	e.store.put(rec)
	return tok, rec
}

var (
	account1 = [16]byte{0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x41, 0x11, 0x81, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11}
	account2 = [16]byte{0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x42, 0x22, 0x82, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22}
)

// verifySentinels are the five causes a failed verification reports.
var verifySentinels = []error{tokens.ErrMalformed, tokens.ErrUnknownKey, tokens.ErrBadSignature, tokens.ErrRevoked, tokens.ErrExpired}
