package directory

import "testing"

// TestDN_stringLen pins the allocation-free length ParseDN checks against
// the limit to the real String length.
func TestDN_stringLen(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"root", ""},
		{"simple", "uid=alice,dc=example,dc=com"},
		{"escapes", `cn=a\,b\+c\"d\\e\<f\>g\;h\=i,dc=com`},
		{"raw equals", "cn=a=b=c"},
		{"nul", `cn=a\00b`},
		{"leading and trailing", `cn=\ \#a\ `},
		{"multi-valued alias", "gn=a+surname=b,2.5.4.3=c"},
		{"utf8", `cn=caf\C3\A9`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn := MustParseDN(tc.in)
			if got, want := dn.stringLen(), len(dn.String()); got != want {
				t.Errorf("stringLen() = %d, len(String()) = %d (%q)", got, want, dn.String())
			}
		})
	}
}
