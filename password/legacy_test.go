package password

import (
	"context"
	"crypto/sha512"
	"errors"
	"hash"
	"testing"
)

// Vectors from glibc crypt(3) (Python's crypt module) and OpenLDAP's
// {SSHA512} layout (digest || salt, base64).
func TestVerifyLegacySchemes(t *testing.T) {
	h := NewHasher(TestParams(), nil, 1)
	ctx := context.Background()
	for _, stored := range []string{
		"{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"{crypt}$5$rounds=2000$saltsalt$z4uPO26lUGTrJq0TkvDSMVwA89yISrOuEF2WeLlRnpC",
		"{CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
		"{SSHA512}iWwx8naQWtJKIoYOgnIUnOjDVRc/KB/avnmg7rvibFhiLlylVmd8s/TomzyGqQwBOpJzU5z2YBupYIJWW8egvDEyMzQ1Njc4",
	} {
		if !IsHashed(stored) || !NeedsRehash(stored) {
			t.Errorf("%s: IsHashed/NeedsRehash false", stored)
		}
		if err := h.Verify(ctx, stored, "secret"); err != nil {
			t.Errorf("%s: right password: %v", stored, err)
		}
		if err := h.Verify(ctx, stored, "wrong"); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: wrong password: %v", stored, err)
		}
	}
}

func TestVerifyCryptRefused(t *testing.T) {
	h := NewHasher(TestParams(), nil, 1)
	for _, stored := range []string{
		"{CRYPT}$6$rounds=x$saltsalt$x",        // malformed rounds
		"{CRYPT}$2y$10$abcdefghijklmnopqrstuv", // bcrypt: not supported
		"{CRYPT}abXyz12345678",                 // DES: not supported
	} {
		if err := h.Verify(context.Background(), stored, "secret"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", stored, err)
		}
	}
	argon, _ := h.Hash(context.Background(), "x")
	if NeedsRehash(argon) {
		t.Error("argon2id value needs rehash")
	}
}

// Drepper's published test vectors for SHA-crypt, and glibc output.
func TestShaCryptVectors(t *testing.T) {
	for _, v := range []struct{ hash, pw string }{
		{"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
		{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
		{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
		{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
		{"$6$rounds=2000$saltsalt$GBImuhotpiUgeciq/ZS6UaMklAGJMK25wd5Tacv1I0CcSmxHOQQLpmVKYRPIU6LoFrr4iPAAmsqUTjBoZ.Fwr/", "secret"},
		{"$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret"},
	} {
		c, err := parseCrypt(v.hash)
		if err == nil {
			err = verifyCrypt(context.Background(), c, v.hash, v.pw)
		}
		if err != nil {
			t.Errorf("%s: %v", v.hash, err)
		}
	}
}

func sha512New() hash.Hash { return sha512.New() }
