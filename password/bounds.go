package password

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on the work one Hash or Verify may cost. A bind is unauthenticated,
// so whatever a client sends as a password, and whatever value an account
// holds, the server spends no more than these allow.
//
//   - MaxLen bounds the password. Longer candidates never match and cost
//     nothing (the legacy {CRYPT} methods are quadratic in the password's
//     length: a 150 KB password against a $6$ value took minutes); a longer
//     new password is refused with ErrTooLong.
//   - Stored argon2id values may cost at most the Hasher's MaxParams.
//   - {CRYPT} $5$/$6$ values may ask for at most MaxCryptRounds rounds.
//
// CheckParams applies the last two to a value before it is stored; Verify
// applies them again, so that a value stored before they existed cannot be
// used to make every wrong bind expensive.

// MaxLen is the longest password, in bytes, that Hash accepts and Verify
// tries (1 KiB; OpenLDAP and glibc impose no limit, and no real password
// or passphrase comes near it).
const MaxLen = 1024

// MaxCryptRounds bounds the rounds= parameter of a {CRYPT} $5$ or $6$
// value. At the cap and MaxLen, verifying costs about as much as one
// argon2id verification with DefaultParams (~100 ms); glibc's default is
// 5000. Values hashed with more rounds (passlib's defaults, 535,000 and
// 656,000) are refused; their passwords must be set again.
const MaxCryptRounds = 20_000

// ErrTooLong is returned by Hash for a password longer than MaxLen.
var ErrTooLong = fmt.Errorf("password longer than %d bytes", MaxLen)

// ErrTooCostly is returned by CheckParams and Verify for a stored value
// whose parameters ask for more work than the bounds allow.
var ErrTooCostly = errors.New("password hash parameters exceed the server's bounds")

// MaxParams is the costliest argon2id value Verify runs: the Hasher's own
// parameters, each raised to DefaultParams' if lower, so that lowering the
// parameters (tests, a small machine) does not lock out accounts hashed at
// the default cost.
func (h *Hasher) MaxParams() Params {
	d := DefaultParams()
	return Params{Memory: max(h.params.Memory, d.Memory), Time: max(h.params.Time, d.Time),
		Threads: max(h.params.Threads, d.Threads)}
}

// CheckParams reports whether stored is a value Verify reads whose cost is
// within bounds: argon2id with m, t and p each at most max's, {CRYPT} $5$
// or $6$ with at most MaxCryptRounds rounds, $1$, or one of the fixed-cost
// {SSHA}, {SHA}, {SSHA512} and {SHA512}. It returns an error wrapping
// ErrTooCostly for a value that asks for more, and one wrapping
// ErrUnsupported for anything malformed or in another scheme (bcrypt and
// DES crypt included). It does no hashing.
func CheckParams(stored string, max Params) error {
	sha, isSHA := findSHA(stored)
	switch {
	case isSHA:
		_, _, err := sha.decode(stored)
		return err
	case strings.HasPrefix(stored, prefix):
		a, err := parseArgon2(stored[len(prefix):])
		if err != nil {
			return err
		}
		return a.params.within(max)
	case hasScheme(stored, "{CRYPT}"):
		_, err := parseCrypt(stored[len("{CRYPT}"):])
		return err
	}
	return ErrUnsupported
}

// within returns an error wrapping ErrTooCostly unless each of p's
// parameters is at most lim's.
func (p Params) within(lim Params) error {
	if p.Memory > lim.Memory || p.Time > lim.Time || p.Threads > lim.Threads {
		return fmt.Errorf("%w: argon2id m=%d,t=%d,p=%d, at most m=%d,t=%d,p=%d", ErrTooCostly,
			p.Memory, p.Time, p.Threads, lim.Memory, lim.Time, lim.Threads)
	}
	return nil
}

// argon2Value is a parsed {ARGON2} value.
type argon2Value struct {
	params     Params
	salt, hash []byte
}

// parseArgon2 parses what follows {ARGON2}:
// $argon2id$v=19$m=..,t=..,p=..$salt$hash, each parameter once.
func parseArgon2(s string) (argon2Value, error) {
	var a argon2Value
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return a, fmt.Errorf("%w: malformed argon2 value", ErrUnsupported)
	}
	var seen [3]bool
	kvs := strings.Split(parts[3], ",")
	if len(kvs) != 3 {
		return a, fmt.Errorf("%w: argon2 parameters are not m,t,p", ErrUnsupported)
	}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		i := strings.Index("mtp", k)
		if len(k) != 1 || i < 0 || seen[i] {
			return a, fmt.Errorf("%w: bad argon2 parameter %.16q", ErrUnsupported, kv)
		}
		seen[i] = true
		bits := 32
		if k == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || n == 0 || (len(v) > 1 && v[0] == '0') {
			return a, fmt.Errorf("%w: bad argon2 parameter %.16q", ErrUnsupported, kv)
		}
		switch k {
		case "m":
			a.params.Memory = uint32(n)
		case "t":
			a.params.Time = uint32(n)
		case "p":
			a.params.Threads = uint8(n)
		}
	}
	b64 := base64Raw
	var err1, err2 error
	a.salt, err1 = b64.DecodeString(parts[4])
	a.hash, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(a.salt) > maxSaltLen || len(a.hash) == 0 || len(a.hash) > maxKeyLen {
		return a, fmt.Errorf("%w: bad argon2 encoding", ErrUnsupported)
	}
	return a, nil
}

// cryptValue is a parsed {CRYPT} value (without the scheme).
type cryptValue struct {
	method   string // "$1$", "$5$" or "$6$"
	rounds   int    // 1000 for $1$; 5000 for $5$/$6$ without rounds=
	explicit bool   // rounds= was given
	salt     string // at most 8 ($1$) or 16 bytes
}

// parseCrypt parses a glibc crypt(3) value of a method Verify supports.
func parseCrypt(v string) (cryptValue, error) {
	var c cryptValue
	switch {
	case strings.HasPrefix(v, "$1$"):
		c.method, c.rounds = "$1$", 1000
	case strings.HasPrefix(v, "$5$"), strings.HasPrefix(v, "$6$"):
		c.method, c.rounds = v[:3], 5000
	default:
		return c, fmt.Errorf("%w: {CRYPT} method other than $1$, $5$ or $6$", ErrUnsupported)
	}
	rest := v[3:]
	if r, ok := strings.CutPrefix(rest, "rounds="); ok && c.method != "$1$" {
		n, after, found := strings.Cut(r, "$")
		rounds, err := strconv.Atoi(n)
		if !found || err != nil || rounds < 0 || len(n) > 10 {
			return c, fmt.Errorf("%w: {CRYPT} rounds malformed", ErrUnsupported)
		}
		// glibc clamps rounds to [1000, 999999999] and writes the clamped
		// value back, so the value's own rounds= is what a match needs.
		c.rounds, c.explicit, rest = max(rounds, 1000), true, after
		if c.rounds > MaxCryptRounds {
			return c, fmt.Errorf("%w: {CRYPT} rounds=%d, at most %d", ErrTooCostly, rounds, MaxCryptRounds)
		}
	}
	salt, _, _ := strings.Cut(rest, "$")
	limit := 16
	if c.method == "$1$" {
		limit = 8
	}
	c.salt = salt[:min(len(salt), limit)]
	return c, nil
}
