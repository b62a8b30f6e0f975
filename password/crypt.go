package password

import (
	"crypto/md5" //nolint:gosec // verifying legacy {CRYPT}$1$ values only
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// {CRYPT} values: the glibc crypt(3) methods $1$ (MD5-crypt), $5$
// (SHA-256-crypt) and $6$ (SHA-512-crypt, Drepper's specification), which
// is what OpenLDAP's {CRYPT} scheme stores on Linux. DES and bcrypt values
// are not accepted.

// MaxCryptRounds bounds the rounds= parameter of a $5$ or $6$ value, so a
// crafted stored value cannot make Verify spin.
const MaxCryptRounds = 1_000_000

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func verifyCrypt(v, pw string) error {
	var got string
	var err error
	switch {
	case strings.HasPrefix(v, "$1$"):
		got, err = md5Crypt(v, pw)
	case strings.HasPrefix(v, "$5$"):
		got, err = shaCrypt(v, pw, sha256.New, "$5$", sha256Order[:])
	case strings.HasPrefix(v, "$6$"):
		got, err = shaCrypt(v, pw, sha512.New, "$6$", sha512Order[:])
	default:
		return fmt.Errorf("%w: {CRYPT} method other than $1$, $5$ or $6$", ErrUnsupported)
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(v)) != 1 {
		return ErrMismatch
	}
	return nil
}

// shaCrypt recomputes stored (prefix, optional rounds=N$, salt, $hash)
// for pw and returns it in the same form.
func shaCrypt(stored, pw string, newHash func() hash.Hash, prefix string, order []byte) (string, error) {
	rest := stored[len(prefix):]
	rounds, explicit := 5000, false
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		n, after, found := strings.Cut(r, "$")
		v, err := strconv.Atoi(n)
		if !found || err != nil || v < 0 || v > MaxCryptRounds {
			return "", fmt.Errorf("%w: {CRYPT} rounds out of range", ErrUnsupported)
		}
		rounds, explicit, rest = min(max(v, 1000), 999_999_999), true, after
	}
	salt, _, _ := strings.Cut(rest, "$")
	if len(salt) > 16 {
		salt = salt[:16]
	}
	p, s := []byte(pw), []byte(salt)

	h := newHash()
	h.Write(p)
	h.Write(s)
	h.Write(p)
	b := h.Sum(nil)
	size := len(b)

	h.Reset()
	h.Write(p)
	h.Write(s)
	for n := len(p); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(p)
		}
	}
	a := h.Sum(nil)

	h.Reset()
	for range len(p) {
		h.Write(p)
	}
	dp := h.Sum(nil)
	pseq := repeatTo(dp, len(p))

	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(s)
	}
	ds := h.Sum(nil)
	sseq := repeatTo(ds, len(s))

	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(pseq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sseq)
		}
		if i%7 != 0 {
			h.Write(pseq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pseq)
		}
		c = h.Sum(c[:0])
	}

	var out strings.Builder
	out.WriteString(prefix)
	if explicit {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.WriteString(salt)
	out.WriteByte('$')
	for i := 0; i+2 < len(order); i += 3 {
		b64From24(&out, c[order[i]], c[order[i+1]], c[order[i+2]], 4)
	}
	if size == sha512.Size {
		b64From24(&out, 0, 0, c[63], 2)
	} else {
		b64From24(&out, 0, c[31], c[30], 3)
	}
	return out.String(), nil
}

var sha512Order = [...]byte{
	0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52, 10,
	53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41,
}

var sha256Order = [...]byte{
	0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
}

func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}

func b64From24(out *strings.Builder, b2, b1, b0 byte, n int) {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for range n {
		out.WriteByte(cryptAlphabet[w&0x3f])
		w >>= 6
	}
}

// md5Crypt recomputes a $1$ value (Poul-Henning Kamp's MD5-crypt).
func md5Crypt(stored, pw string) (string, error) {
	rest := stored[3:]
	salt, _, _ := strings.Cut(rest, "$")
	if len(salt) > 8 {
		salt = salt[:8]
	}
	p, s := []byte(pw), []byte(salt)
	h := md5.New() //nolint:gosec // legacy verification
	h.Write(p)
	h.Write(s)
	h.Write(p)
	fin := h.Sum(nil)

	h.Reset()
	h.Write(p)
	h.Write([]byte("$1$"))
	h.Write(s)
	for n := len(p); n > 0; n -= 16 {
		h.Write(fin[:min(n, 16)])
	}
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(p[:1])
		}
	}
	fin = h.Sum(nil)
	for i := range 1000 {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(fin)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(fin)
		} else {
			h.Write(p)
		}
		fin = h.Sum(fin[:0])
	}
	var out strings.Builder
	out.WriteString("$1$" + salt + "$")
	for _, t := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		b64From24(&out, fin[t[0]], fin[t[1]], fin[t[2]], 4)
	}
	b64From24(&out, 0, 0, fin[11], 2)
	return out.String(), nil
}
