package logfield_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ldapd/ldapd/internal/logfield"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"short", "uid=alice", "uid=alice"},
		{"exactly Max", strings.Repeat("a", logfield.Max), strings.Repeat("a", logfield.Max)},
		{"one over", strings.Repeat("a", logfield.Max+1), strings.Repeat("a", logfield.Max) + "…(+1 bytes)"},
		{"4 MiB", strings.Repeat("a", 4<<20), strings.Repeat("a", logfield.Max) + "…(+4194048 bytes)"},
		// "é" is two bytes; the 256th byte starts one, so the cut moves
		// back rather than split it.
		{"no split rune", strings.Repeat("a", logfield.Max-1) + "éé", strings.Repeat("a", logfield.Max-1) + "…(+4 bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := logfield.Clip(tc.in)
			if got != tc.want {
				t.Errorf("Clip = %.300q, want %.300q", got, tc.want)
			}
			if !utf8.ValidString(got) && utf8.ValidString(tc.in) {
				t.Errorf("Clip made valid UTF-8 invalid: %q", got)
			}
		})
	}
}

func TestClipErr(t *testing.T) {
	if logfield.ClipErr(nil) != nil {
		t.Fatal("ClipErr(nil) != nil")
	}
	base := errors.New("no unique account named " + strings.Repeat("x", 1<<20))
	err := logfield.ClipErr(base)
	if len(err.Error()) > logfield.Max+32 || !strings.HasSuffix(err.Error(), " bytes)") {
		t.Errorf("ClipErr message is %d bytes: %.80q", len(err.Error()), err.Error())
	}
	if !errors.Is(err, base) {
		t.Error("ClipErr does not unwrap to its error")
	}
}
