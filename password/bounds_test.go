package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Legacy values of "secret" (glibc crypt(3), OpenLDAP slappasswd).
const (
	sha512Secret = "{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	md5Secret    = "{CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"
	sshaSecret   = "{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=" // sha1("secret") alone, unsalted {SSHA}: still readable
)

func TestCheckParams(t *testing.T) {
	def := DefaultParams()
	argon := func(m, tc, p string) string {
		return "{ARGON2}$argon2id$v=19$m=" + m + ",t=" + tc + ",p=" + p + "$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"
	}
	for _, tc := range []struct {
		name, stored string
		want         error // nil, ErrTooCostly or ErrUnsupported
	}{
		{"argon2id at the bound", argon("19456", "2", "1"), nil},
		{"argon2id below the bound", argon("64", "1", "1"), nil},
		{"argon2id one KiB more", argon("19457", "2", "1"), ErrTooCostly},
		{"argon2id one pass more", argon("19456", "3", "1"), ErrTooCostly},
		{"argon2id one thread more", argon("19456", "2", "2"), ErrTooCostly},
		{"argon2id 1 GiB, t=64, p=255 (the review's value)", argon("1048576", "64", "255"), ErrTooCostly},
		{"argon2id m=2^32-1", argon("4294967295", "1", "1"), ErrTooCostly},
		{"argon2id m=2^32", argon("4294967296", "1", "1"), ErrUnsupported},
		{"argon2id p=256", argon("64", "1", "256"), ErrUnsupported},
		{"argon2id m=0", argon("0", "1", "1"), ErrUnsupported},
		{"argon2id t=0", argon("64", "0", "1"), ErrUnsupported},
		{"argon2id negative", argon("-64", "1", "1"), ErrUnsupported},
		{"argon2id leading zero", argon("064", "1", "1"), ErrUnsupported},
		{"argon2id m twice", "{ARGON2}$argon2id$v=19$m=64,m=64,t=1$c2FsdA$aGFzaA", ErrUnsupported},
		{"argon2id p missing", "{ARGON2}$argon2id$v=19$m=64,t=1$c2FsdA$aGFzaA", ErrUnsupported},
		{"argon2id extra parameter", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1,x=1$c2FsdA$aGFzaA", ErrUnsupported},
		{"argon2i", "{ARGON2}$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", ErrUnsupported},
		{"argon2id v=16", "{ARGON2}$argon2id$v=16$m=64,t=1,p=1$c2FsdA$aGFzaA", ErrUnsupported},
		{"argon2id salt of 65 bytes", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 87) + "$aGFzaA", ErrUnsupported},
		{"argon2id no hash", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$c2FsdA$", ErrUnsupported},
		{"argon2id bad base64", "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$!!$!!", ErrUnsupported},
		{"argon2id too few parts", "{ARGON2}$argon2id$v=19", ErrUnsupported},
		{"$6$ default rounds", sha512Secret, nil},
		{"$6$ at MaxCryptRounds", "{CRYPT}$6$rounds=20000$saltsalt$x", nil},
		{"$5$ below 1000 (glibc raises it)", "{CRYPT}$5$rounds=10$saltsalt$x", nil},
		{"$6$ one round over", "{CRYPT}$6$rounds=20001$saltsalt$x", ErrTooCostly},
		{"$5$ passlib's 535000", "{crypt}$5$rounds=535000$saltsalt$x", ErrTooCostly},
		{"$6$ 999999999 rounds", "{CRYPT}$6$rounds=999999999$saltsalt$x", ErrTooCostly},
		{"$6$ rounds overflowing int", "{CRYPT}$6$rounds=99999999999999999999999$saltsalt$x", ErrUnsupported},
		{"$6$ rounds not a number", "{CRYPT}$6$rounds=many$saltsalt$x", ErrUnsupported},
		{"$6$ rounds without $", "{CRYPT}$6$rounds=5000", ErrUnsupported},
		{"$1$", md5Secret, nil},
		{"$2y$ bcrypt", "{CRYPT}$2y$10$abcdefghijklmnopqrstuv", ErrUnsupported},
		{"DES crypt", "{CRYPT}abXyz12345678", ErrUnsupported},
		{"{SSHA}", sshaSecret, nil},
		{"{SSHA} too short", "{SSHA}AAAA", ErrUnsupported},
		{"{SHA} with a salt", "{SHA}" + strings.Repeat("A", 32), ErrUnsupported},
		{"{SSHA512} too short", "{SSHA512}AAAA", ErrUnsupported},
		{"plaintext", "secret", ErrUnsupported},
		{"empty", "", ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckParams(tc.stored, def)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckParams(%.60q) = %v, want %v", tc.stored, err, tc.want)
			}
			// Verify refuses the same values, with the same error, and
			// never runs them.
			if tc.want != nil {
				h := NewHasher(TestParams(), nil, 1)
				if err := h.Verify(context.Background(), tc.stored, "secret"); !errors.Is(err, tc.want) {
					t.Errorf("Verify(%.60q) = %v, want %v", tc.stored, err, tc.want)
				}
			}
		})
	}
}

// TestMaxParams: a Hasher with cheaper parameters than the default still
// verifies values hashed at the default; one with costlier parameters
// verifies up to its own.
func TestMaxParams(t *testing.T) {
	low := NewHasher(TestParams(), nil, 1)
	if got := low.MaxParams(); got != DefaultParams() {
		t.Errorf("MaxParams with TestParams = %+v, want the defaults", got)
	}
	high := NewHasher(Params{Memory: 64 << 10, Time: 3, Threads: 4}, nil, 1)
	if got := high.MaxParams(); got != (Params{Memory: 64 << 10, Time: 3, Threads: 4}) {
		t.Errorf("MaxParams = %+v, want the Hasher's own", got)
	}
	stored, err := NewHasher(Params{Memory: 1024, Time: 2, Threads: 1}, nil, 1).Hash(context.Background(), "secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := low.Verify(context.Background(), stored, "secret"); err != nil {
		t.Errorf("a value within the defaults, verified by a cheaper Hasher: %v", err)
	}
}

// TestMaxLen: a password over MaxLen is refused by Hash and never matches
// in Verify, which returns before waiting for a slot (the context here has
// already ended, so any wait or any hashing would report it).
func TestMaxLen(t *testing.T) {
	h := NewHasher(TestParams(), nil, 1)
	ctx := context.Background()
	atMax := strings.Repeat("p", MaxLen)
	stored, err := h.Hash(ctx, atMax)
	if err != nil {
		t.Fatalf("Hash of MaxLen bytes: %v", err)
	}
	if err := h.Verify(ctx, stored, atMax); err != nil {
		t.Fatalf("Verify of MaxLen bytes: %v", err)
	}
	if _, err := h.Hash(ctx, atMax+"p"); !errors.Is(err, ErrTooLong) {
		t.Fatalf("Hash of MaxLen+1 bytes: %v, want ErrTooLong", err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	for _, v := range []string{stored, sha512Secret, "{CRYPT}$6$rounds=20000$saltsalt$x", md5Secret, sshaSecret} {
		for _, n := range []int{MaxLen + 1, 1 << 20} {
			pw := strings.Repeat("p", n)
			start := time.Now()
			if err := h.Verify(ended, v, pw); err != ErrMismatch {
				t.Errorf("Verify(%.30s, %d bytes) = %v, want ErrMismatch", v, n, err)
			}
			// Hashing 1 MB once would take milliseconds; $6$ with it,
			// minutes. The ended context already shows no work started;
			// the bound only has to tell a refusal from minutes of
			// hashing, with room for a loaded machine's pauses.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Verify(%.30s, %d bytes) took %v", v, n, d)
			}
		}
	}
}

// TestCryptHonoursContext: the {CRYPT} rounds stop when the context ends,
// and a Verify waiting for a hash slot gives up with its context.
func TestCryptHonoursContext(t *testing.T) {
	c, err := parseCrypt("$6$rounds=20000$saltsalt$x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if _, err := shaCrypt(ctx, c, strings.Repeat("p", MaxLen), sha512New, sha512Order[:]); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shaCrypt after the deadline: %v", err)
	}
	m, _ := parseCrypt("$1$saltsalt$x")
	if _, err := md5Crypt(ctx, m, "secret"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("md5Crypt after the deadline: %v", err)
	}

	h := NewHasher(TestParams(), nil, 1)
	if err := h.acquire(context.Background()); err != nil { // hold the only slot
		t.Fatal(err)
	}
	defer h.release()
	for _, v := range []string{sha512Secret, md5Secret} {
		wait, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := h.Verify(wait, v, "secret")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Verify(%.12s) with every slot taken: %v, want the context's deadline", v, err)
		}
	}
}

// FuzzCheckParams: CheckParams never panics, answers nil or an error
// wrapping exactly one of ErrTooCostly and ErrUnsupported, is monotonic in
// its bound, and a value it accepts is one Verify runs (it answers a match
// or a mismatch, never "unreadable").
func FuzzCheckParams(f *testing.F) {
	for _, s := range []string{
		sha512Secret, md5Secret, sshaSecret,
		"{CRYPT}$5$rounds=2000$saltsalt$z4uPO26lUGTrJq0TkvDSMVwA89yISrOuEF2WeLlRnpC",
		"{CRYPT}$6$rounds=20001$saltsalt$x",
		"{SSHA512}iWwx8naQWtJKIoYOgnIUnOjDVRc/KB/avnmg7rvibFhiLlylVmd8s/TomzyGqQwBOpJzU5z2YBupYIJWW8egvDEyMzQ1Njc4",
		"{ARGON2}$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
		"{ARGON2}$argon2id$v=19$m=1048576,t=64,p=255$c2FsdA$aGFzaA",
		"{ARGON2}$argon2id$v=19$m=64,t=1,p=1,p=1$c2FsdA$aGFzaA",
		"{CRYPT}$2y$10$abcdefghijklmnopqrstuv", "secret", "",
	} {
		f.Add(s)
	}
	h := NewHasher(TestParams(), nil, 1)
	f.Fuzz(func(t *testing.T, stored string) {
		err := CheckParams(stored, TestParams())
		costly, unsupported := errors.Is(err, ErrTooCostly), errors.Is(err, ErrUnsupported)
		if err != nil && costly == unsupported {
			t.Fatalf("CheckParams(%q) = %v: neither or both of ErrTooCostly and ErrUnsupported", stored, err)
		}
		if wider := CheckParams(stored, DefaultParams()); err == nil && wider != nil || costly && errors.Is(wider, ErrUnsupported) {
			t.Fatalf("CheckParams(%q) = %v within TestParams but %v within DefaultParams", stored, err, wider)
		}
		if err != nil {
			return
		}
		if err := h.Verify(context.Background(), stored, "secret"); err != nil && !errors.Is(err, ErrMismatch) {
			t.Fatalf("CheckParams(%q) accepted it but Verify says %v", stored, err)
		}
	})
}
