package tokens

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Purpose is what a token may be used for. The zero value is ReadOnly, so a
// token is read-only unless asked otherwise.
type Purpose uint8

const (
	// ReadOnly tokens get the account's read rights; every write fails.
	ReadOnly Purpose = iota
	// ReadWrite tokens may also write what the account's groups allow.
	ReadWrite
)

// String returns "read-only" or "read-write", the words the CLI prints.
func (p Purpose) String() string {
	switch p {
	case ReadOnly:
		return "read-only"
	case ReadWrite:
		return "read-write"
	}
	return fmt.Sprintf("Purpose(%d)", uint8(p))
}

// Valid reports whether p is ReadOnly or ReadWrite.
func (p Purpose) Valid() bool { return p == ReadOnly || p == ReadWrite }

// ParsePurpose parses "read-only" or "ro", "read-write" or "rw", in any
// case. Anything else yields an error wrapping ErrInvalidPurpose.
func ParsePurpose(s string) (Purpose, error) {
	switch strings.ToLower(s) {
	case "read-only", "ro":
		return ReadOnly, nil
	case "read-write", "rw":
		return ReadWrite, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrInvalidPurpose, s)
}

// MarshalText implements encoding.TextMarshaler, for JSON output.
func (p Purpose) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrInvalidPurpose, uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParsePurpose.
func (p *Purpose) UnmarshalText(b []byte) error {
	v, err := ParsePurpose(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ID identifies one token. It is a random (version 4) UUID. Unlike the
// token, the ID is not a secret: it may be listed, logged and used to revoke
// the token, as Vault's accessor is.
type ID [16]byte

// String returns the canonical UUID text, e.g.
// "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7".
func (id ID) String() string { return uuid.UUID(id).String() }

// ParseID parses a UUID in its canonical form (other forms accepted by
// github.com/google/uuid, such as "urn:uuid:..." or 32 hex digits, also
// work). Failures wrap ErrInvalidID.
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %q", ErrInvalidID, s)
	}
	return ID(u), nil
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseID.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Record is what the server keeps for each token: everything but a secret.
// The token itself carries only ID and AccountUUID; purpose and expiry are
// read from the record at every verification, so changing or deleting the
// record takes effect at the next bind.
type Record struct {
	ID          ID
	AccountUUID [16]byte // entryUUID of the service account
	Label       string   // free text given at issue, e.g. "Test Token"
	Purpose     Purpose
	IssuedAt    time.Time
	Expiry      time.Time // zero: never expires
	IssuedBy    string    // the identity that asked for the token
}

// Expired reports whether the record has an expiry and now is at or past
// it. A token is therefore usable strictly before its expiry instant.
func (r Record) Expired(now time.Time) bool {
	return !r.Expiry.IsZero() && !now.Before(r.Expiry)
}

// Claims is what a token says once its signature has been verified.
type Claims struct {
	TokenID     ID
	AccountUUID [16]byte
	KeyID       string // kid of the key that signed the token
}
