package acl_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/acl"
)

// TestWritePolicyDocumented keeps the write-policy table of
// docs/security.md equal to the allow-list the server enforces. Run with
// LDAPD_UPDATE_DOCS=1 to rewrite the table from acl.Grants().
func TestWritePolicyDocumented(t *testing.T) {
	const path = "../docs/security.md"
	const begin, end = "<!-- write-policy:begin -->\n", "<!-- write-policy:end -->"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the write-policy markers", path)
	}
	want := renderGrants()
	if got := text[i+len(begin) : j]; got != want {
		if os.Getenv("LDAPD_UPDATE_DOCS") == "1" {
			if err := os.WriteFile(path, []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("the write-policy table in %s is not the one acl enforces; run LDAPD_UPDATE_DOCS=1 go test ./acl -run TestWritePolicyDocumented\nwant:\n%s", path, want)
	}
}

func renderGrants() string {
	var b strings.Builder
	b.WriteString("| role | entry kind | operations | object classes | attributes | also on idm_high_privilege members |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	b.WriteString("| system_admins | every kind | add, modify, delete, rename | all, extensibleObject included | all but the server-maintained ones | yes |\n")
	for _, g := range acl.Grants() {
		ops := make([]string, len(g.Ops))
		for i, op := range g.Ops {
			ops[i] = op.String()
		}
		classes := "(none: no class changes)"
		if len(g.Classes) > 0 {
			classes = strings.Join(g.Classes, ", ")
		}
		high := "no"
		if g.HighPrivilege {
			high = "yes"
		}
		kind := g.Kind.String()
		if g.Note != "" {
			kind += " (" + g.Note + ")"
		}
		b.WriteString("| " + g.Role.String() + " | " + kind + " | " + strings.Join(ops, ", ") + " | " + classes + " | " +
			strings.Join(g.Attrs, ", ") + " | " + high + " |\n")
	}
	b.WriteString("| managers | API token record | add (the token operation), delete | | (set by the server) | yes |\n")
	b.WriteString("| idm_service_account_admins | API token record | delete | | | no |\n")
	b.WriteString("| anyone | API token record | never modify or rename | | | |\n")
	return b.String()
}
