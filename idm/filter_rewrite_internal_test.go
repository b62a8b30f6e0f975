package idm

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// TestFilterRewrites: candidates replaces each NOT under AND and OR by the
// absolute true filter, redactFilter hides assertion values on
// userPassword at any depth, and both return the filter itself (no copy)
// when there is nothing to change, leaving the original as it was.
func TestFilterRewrites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewrite func(*directory.Filter) *directory.Filter
		in      string
		want    string // "" for the filter itself
	}{
		{"candidates/no NOT", candidates, "(&(uid=a)(|(cn=b)(sn=c)))", ""},
		{"candidates/top-level NOT", candidates, "(!(mail=x))", "(&)"},
		{"candidates/nested NOT", candidates, "(&(uid=a)(|(cn=b)(!(mail=x))))", "(&(uid=a)(|(cn=b)(&)))"},
		{"redact/no userPassword", redactFilter, "(&(uid=a)(!(cn=b)))", ""},
		{"redact/equality", redactFilter, "(userPassword=secret)", `(userPassword=\28redacted\29)`},
		{"redact/nested substring", redactFilter, "(&(uid=a)(!(userpassword=se*et)))", `(&(uid=a)(!(userPassword=\28redacted\29*)))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := directory.ParseFilter(tc.in, directory.Builtin())
			if err != nil {
				t.Fatal(err)
			}
			before := f.String()
			got := tc.rewrite(f)
			if tc.want == "" {
				if got != f {
					t.Fatalf("%s rewritten to %s, want the filter itself", tc.in, got)
				}
				return
			}
			if got.String() != tc.want {
				t.Errorf("%s rewritten to %s, want %s", tc.in, got, tc.want)
			}
			if f.String() != before {
				t.Errorf("the original became %s", f)
			}
		})
	}
}
