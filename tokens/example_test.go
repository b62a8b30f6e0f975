package tokens_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

// records is the smallest record store: a map, as the directory layer
// keeps one record per token below the service account's entry.
type records map[tokens.ID]tokens.Record

// check is a token bind's check as the server runs it: Parse (pure), the
// record read by the claims' token ID and account, Check.
func check(v *tokens.Verifier, r records, token string) (tokens.Claims, tokens.Record, error) {
	c, err := v.Parse(token)
	if err != nil {
		return tokens.Claims{}, tokens.Record{}, err
	}
	rec, ok := r[c.TokenID]
	if !ok || rec.AccountUUID != c.AccountUUID {
		return c, tokens.Record{}, fmt.Errorf("token %s: %w", c.TokenID, tokens.ErrRevoked)
	}
	return c, rec, v.Check(c, rec)
}

// Issue a read-write token that expires in a day, store its record, and
// verify it as the server does when an application binds with "dn=token".
// The server then destroys the record, and the token stops working.
func ExampleIssuer_Issue() {
	// A real server uses tokens.LoadKeyring and leaves Rand and Now nil
	// (crypto/rand and time.Now); fixed ones make this example repeatable.
	random := rand.NewChaCha8([32]byte{})
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }

	keys, err := tokens.NewKeyring(random)
	if err != nil {
		panic(err)
	}
	store := records{}
	issuer := &tokens.Issuer{Keys: keys, Rand: random, Now: clock}
	verifier := &tokens.Verifier{Keys: keys, Now: clock}

	account := [16]byte{0x0a, 0x6b, 0x35, 0x2e, 0x4c, 0x31, 0x4b, 0x77, 0x9a, 0x4f, 0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50}
	token, rec, err := issuer.Issue(account, "Test Token", tokens.ReadWrite, now.Add(24*time.Hour), "demo_user")
	if err != nil {
		panic(err)
	}
	store[rec.ID] = rec // the caller stores the record; never the token
	fmt.Println("token length:", len(token))

	claims, got, err := check(verifier, store, token)
	fmt.Println("verified:", err == nil, claims.TokenID == rec.ID, got.Purpose, got.Label)

	delete(store, rec.ID) // "api-token destroy"
	_, _, err = check(verifier, store, token)
	fmt.Println("after destroy:", errors.Is(err, tokens.ErrRevoked))

	_, _, err = issuer.Issue(account, "late", tokens.ReadOnly, now.Add(-time.Hour), "demo_user")
	fmt.Println("expiry in the past:", errors.Is(err, tokens.ErrExpiryInPast))
	// Output:
	// token length: 128
	// verified: true true read-write Test Token
	// after destroy: true
	// expiry in the past: true
}
