package tokens

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
)

// Issuer makes new tokens with the active key of Keys.
//
// Its zero value, given Keys, works: a nil Rand means crypto/rand.Reader and
// a nil Now means time.Now. Tests set both. An Issuer is safe for
// concurrent use if Rand is (crypto/rand.Reader is).
type Issuer struct {
	Keys *Keyring
	Rand io.Reader        // source of token IDs; nil: crypto/rand.Reader
	Now  func() time.Time // clock for IssuedAt and the expiry check; nil: time.Now
}

// Issue makes a token for the account accountUUID and returns it with the
// record the caller must store (the token is valid only while that record
// exists). The token is TokenLen characters long; show it to the user once
// and never store or log it. The record holds no secret and may be listed.
//
// expiry is optional: the zero time means the token never expires. A
// non-zero expiry that is not after Now() is refused with ErrExpiryInPast.
// An invalid purpose yields ErrInvalidPurpose, the zero account UUID
// ErrInvalidAccount, and an empty keyring ErrNoKeys.
//
// Times in the record are in UTC, without a monotonic clock reading.
func (i *Issuer) Issue(accountUUID [16]byte, label string, purpose Purpose, expiry time.Time, issuedBy string) (token string, rec Record, err error) {
	if !purpose.Valid() {
		return "", Record{}, fmt.Errorf("issue token: %w: %d", ErrInvalidPurpose, uint8(purpose))
	}
	if accountUUID == ([16]byte{}) {
		return "", Record{}, fmt.Errorf("issue token: %w: all zero", ErrInvalidAccount)
	}
	now := i.now()
	if !expiry.IsZero() && !expiry.After(now) {
		return "", Record{}, fmt.Errorf("issue token: %w: expiry %s is not after %s",
			ErrExpiryInPast, expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	key, err := i.Keys.active()
	if err != nil {
		return "", Record{}, fmt.Errorf("issue token: %w", err)
	}
	u, err := uuid.NewRandomFromReader(i.rand())
	if err != nil {
		return "", Record{}, fmt.Errorf("issue token: random ID: %w", err)
	}
	rec = Record{
		ID:          ID(u),
		AccountUUID: accountUUID,
		Label:       label,
		Purpose:     purpose,
		IssuedAt:    now.UTC(), // UTC also drops the monotonic reading
		IssuedBy:    issuedBy,
	}
	if !expiry.IsZero() {
		rec.Expiry = expiry.UTC()
	}
	token, err = key.sign(encodePayload(rec.ID, accountUUID))
	if err != nil {
		return "", Record{}, fmt.Errorf("issue token: %w", err)
	}
	if len(token) != TokenLen {
		return "", Record{}, fmt.Errorf("issue token: internal error: token length %d, want %d", len(token), TokenLen)
	}
	return token, rec, nil
}

func (i *Issuer) now() time.Time {
	if i.Now == nil {
		return time.Now()
	}
	return i.Now()
}

func (i *Issuer) rand() io.Reader {
	if i.Rand == nil {
		return rand.Reader
	}
	return i.Rand
}
