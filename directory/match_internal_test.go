package directory

import (
	"strings"
	"testing"
)

// The fold matchers compare a value byte by byte instead of allocating
// its foldSpace form; wherever they apply they must agree with it.

func checkFold(t *testing.T, v string, parts []string) {
	t.Helper()
	if !foldIsLower(v) {
		return
	}
	if n := foldSpace(v); n != strings.ToLower(v) {
		t.Fatalf("foldIsLower(%q) but foldSpace gives %q, not the lower-case form", v, n)
	}
	n := foldSpace(v)
	if len(parts) >= 2 {
		for i := range parts {
			parts[i] = foldSpace(parts[i])
		}
		if got, want := substringsMatchLower(v, parts), substringsMatch(n, parts); got != want {
			t.Fatalf("substrings %q in %q: fold %v, foldSpace %v", parts, v, got, want)
		}
	}
	for _, w := range append(parts, v, strings.ToUpper(v), n) {
		w = foldSpace(w)
		if len(w) == len(v) {
			if got, want := equalLower(v, w), n == w; got != want {
				t.Fatalf("equal %q %q: fold %v, foldSpace %v", v, w, got, want)
			}
		}
	}
}

func TestFoldMatchers(t *testing.T) {
	for _, tc := range []struct {
		v     string
		parts []string
	}{
		{"User 123", []string{"", "12", ""}},
		{"User 123", []string{"user", "3"}},
		{"User 123", []string{"USER 1", "", "23"}},
		{"User 123", []string{"", "r 1", "2", "3"}},
		{"ab", []string{"a", "b", "b"}},
		{"aaa", []string{"a", "a", "a"}},
		{"aaa", []string{"a", "a", "a", "a"}},
		{"Ünïcode", []string{"", "code"}},
		{" lead", []string{"", "lead"}},
		{"two  spaces", []string{"", "two spaces"}},
		{"tab\there", []string{"", "tab"}},
		{"", []string{"", ""}},
		{"MiXeD-Case_9", []string{"mixed", "case", "9"}},
	} {
		checkFold(t, tc.v, append([]string(nil), tc.parts...))
	}
}

func FuzzFoldMatchers(f *testing.F) {
	f.Add("User 123", "", "12", "")
	f.Add("MiXeD Case", "mi", "d c", "se")
	f.Add("aaa", "a", "a", "a")
	f.Fuzz(func(t *testing.T, v, initial, any, final string) {
		parts := []string{initial, final}
		if any != "" {
			parts = []string{initial, any, final}
		}
		checkFold(t, v, parts)
	})
}
