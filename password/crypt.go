package password

import (
	"context"
	"crypto/md5" //nolint:gosec // verifying legacy {CRYPT}$1$ values only
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"strconv"
	"strings"
)

// {CRYPT} values: the glibc crypt(3) methods $1$ (MD5-crypt), $5$
// (SHA-256-crypt) and $6$ (SHA-512-crypt, Drepper's specification), which
// is what OpenLDAP's {CRYPT} scheme stores on Linux. DES and bcrypt values
// are not accepted.

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ctxEvery is how many rounds run between two checks of the context: a
// few milliseconds of work at MaxLen.
const ctxEvery = 512

// verifyCrypt checks pw against v, the {CRYPT} value c was parsed from.
// It stops with ctx's error if ctx ends during the rounds.
func verifyCrypt(ctx context.Context, c cryptValue, v, pw string) error {
	var got string
	var err error
	switch c.method {
	case "$1$":
		got, err = md5Crypt(ctx, c, pw)
	case "$5$":
		got, err = shaCrypt(ctx, c, pw, sha256.New, sha256Order[:])
	default:
		got, err = shaCrypt(ctx, c, pw, sha512.New, sha512Order[:])
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(v)) != 1 {
		return ErrMismatch
	}
	return nil
}

// shaCrypt recomputes c (method, optional rounds=N$, salt, $hash) for pw
// and returns it in the same form. Its work is quadratic in len(pw) and
// linear in the rounds, which is why Verify bounds both first.
func shaCrypt(ctx context.Context, c cryptValue, pw string, newHash func() hash.Hash, order []byte) (string, error) {
	p, s := []byte(pw), []byte(c.salt)

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

	x, err := cryptRounds(ctx, h, c.rounds, a, pseq, sseq)
	if err != nil {
		return "", err
	}

	var out strings.Builder
	out.WriteString(c.method)
	if c.explicit {
		out.WriteString("rounds=" + strconv.Itoa(c.rounds) + "$")
	}
	out.WriteString(c.salt)
	out.WriteByte('$')
	for i := 0; i+2 < len(order); i += 3 {
		b64From24(&out, x[order[i]], x[order[i+1]], x[order[i+2]], 4)
	}
	if size == sha512.Size {
		b64From24(&out, 0, 0, x[63], 2)
	} else {
		b64From24(&out, 0, x[31], x[30], 3)
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

// cryptRounds runs the rounds MD5-crypt and SHA-crypt share: round i
// hashes the previous digest x with p and s, in an order set by i, into x.
func cryptRounds(ctx context.Context, h hash.Hash, rounds int, x, p, s []byte) ([]byte, error) {
	for i := range rounds {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(x)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(x)
		} else {
			h.Write(p)
		}
		x = h.Sum(x[:0])
	}
	return x, nil
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
func md5Crypt(ctx context.Context, c cryptValue, pw string) (string, error) {
	salt := c.salt
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
	fin, err := cryptRounds(ctx, h, c.rounds, fin, p, s)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	out.WriteString("$1$" + salt + "$")
	for _, t := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		b64From24(&out, fin[t[0]], fin[t[1]], fin[t[2]], 4)
	}
	b64From24(&out, 0, 0, fin[11], 2)
	return out.String(), nil
}
