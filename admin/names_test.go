package admin

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

var testBase = directory.MustParseDN("dc=idm,dc=example,dc=com")

func TestDNs(t *testing.T) {
	tests := []struct{ got, want string }{
		{serviceAccountDN(testBase, "demo_service").String(), "uid=demo_service,ou=services,dc=idm,dc=example,dc=com"},
		{personDN(testBase, "demo_user").String(), "uid=demo_user,ou=people,dc=idm,dc=example,dc=com"},
		{groupDN(testBase, "demo_group").String(), "cn=demo_group,ou=groups,dc=idm,dc=example,dc=com"},
		{tokenDN(testBase, "demo_service", "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7").String(),
			"ldapdTokenId=4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7,uid=demo_service,ou=services,dc=idm,dc=example,dc=com"},
		// Special characters are escaped, not interpreted.
		{groupDN(testBase, "a,b+c=d").String(), `cn=a\,b\+c\=d,ou=groups,dc=idm,dc=example,dc=com`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestDomainOf(t *testing.T) {
	for in, want := range map[string]string{
		"dc=idm,dc=example,dc=com": "idm.example.com",
		"DC=Example,DC=org":        "Example.org",
		"o=example":                "",
		"ou=x,dc=example,dc=com":   "",
		"":                         "",
	} {
		if got := domainOf(directory.MustParseDN(in)); got != want {
			t.Errorf("domainOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalName(t *testing.T) {
	tests := []struct {
		in, domain, want string
		ok               bool
	}{
		{"demo_service", "idm.example.com", "demo_service", true},
		{"demo_service@idm.example.com", "idm.example.com", "demo_service", true},
		{"demo_service@IDM.example.com", "idm.example.com", "demo_service", true},
		{"demo_service@other.org", "idm.example.com", "", false},
		{"@idm.example.com", "idm.example.com", "", false},
		{"x@y", "", "", false},
		{"", "idm.example.com", "", false},
	}
	for _, tc := range tests {
		got, err := localName(tc.in, tc.domain)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("localName(%q, %q) = %q, %v; want %q, ok=%v", tc.in, tc.domain, got, err, tc.want, tc.ok)
		}
	}
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"uid=demo_user,ou=people,dc=idm,dc=example,dc=com":      "demo_user",
		"UID=demo_user, OU=People, DC=idm,DC=example,DC=com":    "demo_user",
		"cn=demo_group,ou=groups,dc=idm,dc=example,dc=com":      "demo_group",
		"uid=demo_service,ou=services,dc=idm,dc=example,dc=com": "demo_service",
		"uid=x,ou=elsewhere,dc=idm,dc=example,dc=com":           "uid=x,ou=elsewhere,dc=idm,dc=example,dc=com",
		"uid=x,ou=people,dc=other,dc=com":                       "uid=x,ou=people,dc=other,dc=com",
		"cn=a+sn=b,ou=people,dc=idm,dc=example,dc=com":          "cn=a+sn=b,ou=people,dc=idm,dc=example,dc=com",
		"not a dn": "not a dn",
	} {
		if got := displayName(testBase, in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveFilter(t *testing.T) {
	want := "(|(&(objectClass=groupOfNames)(cn=demo_group))(&(objectClass=ldapdServiceAccount)(uid=demo_group))(&(objectClass=inetOrgPerson)(uid=demo_group)))"
	if got := resolveFilter("demo_group"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Filter metacharacters in a name are escaped.
	if got := resolveFilter("a*)(uid=*"); strings.Contains(got, "a*") || !strings.Contains(got, `a\2a\29\28uid=\2a`) {
		t.Errorf("unescaped: %s", got)
	}
}

func TestPickOne(t *testing.T) {
	e := func(dn string) *ldap.Entry { return &ldap.Entry{DN: dn} }
	if _, err := pickOne("nobody", nil); !errors.Is(err, ErrNotFound) || err.Error() != "no group or account named nobody" {
		t.Errorf("zero: %v", err)
	}
	if dn, err := pickOne("g", []*ldap.Entry{e("cn=g,ou=groups,dc=x")}); err != nil || dn != "cn=g,ou=groups,dc=x" {
		t.Errorf("one: %q, %v", dn, err)
	}
	_, err := pickOne("x", []*ldap.Entry{e("cn=x,ou=groups,dc=x"), e("uid=x,ou=people,dc=x")})
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "cn=x,ou=groups,dc=x; uid=x,ou=people,dc=x") {
		t.Errorf("two: %v", err)
	}
}

func attrMap(req *ldap.AddRequest) map[string][]string {
	m := map[string][]string{}
	for _, a := range req.Attributes {
		m[a.Type] = a.Vals
	}
	return m
}

func TestAddRequests(t *testing.T) {
	t.Run("service account", func(t *testing.T) {
		req := serviceAccountAdd(testBase, "demo_service", "Demonstration Service", "cn=demo_group,ou=groups,dc=idm,dc=example,dc=com")
		if req.DN != "uid=demo_service,ou=services,dc=idm,dc=example,dc=com" {
			t.Errorf("DN %s", req.DN)
		}
		want := map[string][]string{
			"objectClass":    {"top", "ldapdServiceAccount"},
			"uid":            {"demo_service"},
			"displayName":    {"Demonstration Service"},
			"entryManagedBy": {"cn=demo_group,ou=groups,dc=idm,dc=example,dc=com"},
		}
		checkAttrs(t, attrMap(req), want)
	})
	t.Run("person", func(t *testing.T) {
		req := personAdd(testBase, "demo_user", "Demo User")
		if req.DN != "uid=demo_user,ou=people,dc=idm,dc=example,dc=com" {
			t.Errorf("DN %s", req.DN)
		}
		checkAttrs(t, attrMap(req), map[string][]string{
			"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson", "ldapdAccount"},
			"uid":         {"demo_user"}, "cn": {"demo_user"}, "sn": {"demo_user"},
			"displayName": {"Demo User"},
		})
	})
	t.Run("group", func(t *testing.T) {
		req := groupAdd(testBase, "demo_group")
		if req.DN != "cn=demo_group,ou=groups,dc=idm,dc=example,dc=com" {
			t.Errorf("DN %s", req.DN)
		}
		checkAttrs(t, attrMap(req), map[string][]string{"objectClass": {"top", "groupOfNames"}, "cn": {"demo_group"}})
	})
}

func checkAttrs(t *testing.T, got, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestServiceAccountModify(t *testing.T) {
	const dn = "uid=s,ou=services,dc=x"
	tests := []struct {
		name, display, manager string
		want                   []string // "type attr=values"
	}{
		{"display name", "New Name", "", []string{"replace displayName=New Name"}},
		{"manager", "", "cn=g,ou=groups,dc=x", []string{"replace entryManagedBy=cn=g,ou=groups,dc=x"}},
		{"both", "N", "cn=g", []string{"replace displayName=N", "replace entryManagedBy=cn=g"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := serviceAccountModify(dn, tc.display, tc.manager)
			var got []string
			for _, c := range req.Changes {
				if c.Operation != ldap.ReplaceAttribute {
					t.Errorf("operation %d", c.Operation)
				}
				got = append(got, "replace "+c.Modification.Type+"="+strings.Join(c.Modification.Vals, "|"))
			}
			if req.DN != dn || !slices.Equal(got, tc.want) {
				t.Errorf("got %s %v, want %v", req.DN, got, tc.want)
			}
		})
	}
}

func TestPartitionMembers(t *testing.T) {
	current := []string{"uid=a,ou=people,dc=x", "cn=g,ou=groups,dc=x"}
	tests := []struct {
		name               string
		wanted             []string
		add                bool
		changed, unchanged []string
	}{
		{"add new", []string{"uid=b,ou=people,dc=x"}, true, []string{"uid=b,ou=people,dc=x"}, nil},
		{"add existing, other case and spacing", []string{"UID=A, ou=People,dc=x"}, true, nil, []string{"UID=A, ou=People,dc=x"}},
		{"add duplicates once", []string{"uid=b,ou=people,dc=x", "uid=B,ou=people,dc=x"}, true, []string{"uid=b,ou=people,dc=x"}, nil},
		{"remove member", []string{"cn=g,ou=groups,dc=x"}, false, []string{"cn=g,ou=groups,dc=x"}, nil},
		{"remove non-member", []string{"uid=b,ou=people,dc=x"}, false, nil, []string{"uid=b,ou=people,dc=x"}},
		{"mixed add", []string{"uid=a,ou=people,dc=x", "uid=c,ou=people,dc=x"}, true, []string{"uid=c,ou=people,dc=x"}, []string{"uid=a,ou=people,dc=x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := partitionMembers(current, tc.wanted, tc.add)
			if !slices.Equal(got.Changed, tc.changed) || !slices.Equal(got.Unchanged, tc.unchanged) {
				t.Errorf("got %+v, want changed %v unchanged %v", got, tc.changed, tc.unchanged)
			}
		})
	}
}
