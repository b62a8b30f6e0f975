package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/admin"
)

// wantOnlyStdout checks that a printer wrote want on stdout and nothing
// on stderr.
func wantOnlyStdout(t *testing.T, stdout, stderr *bytes.Buffer, want string) {
	t.Helper()
	if stdout.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", stdout, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr)
	}
}

func clientTestPrinter(format string) (*Printer, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	names := map[string]string{"uid=demo_user,ou=people,dc=idm,dc=example,dc=com": "demo_user"}
	return &Printer{
		Format: format, Stdout: &stdout, Stderr: &stderr,
		Loc: time.FixedZone("AEST", 10*3600),
		Name: func(dn string) string {
			if n, ok := names[dn]; ok {
				return n
			}
			return dn
		},
	}, &stdout, &stderr
}

var testEntry = admin.Entry{
	DN: "uid=demo_service,ou=services,dc=idm,dc=example,dc=com",
	Attrs: []admin.Attr{
		{Name: "uid", Values: []string{"demo_service"}},
		{Name: "objectClass", Values: []string{"top", "ldapdServiceAccount"}},
		{Name: "displayName", Values: []string{"Demonstration Service"}},
		{Name: "entryManagedBy", Values: []string{"cn=demo_group,ou=groups,dc=idm,dc=example,dc=com"}},
		{Name: "spn", Values: []string{"demo_service@idm.example.com"}},
		{Name: "entryUUID", Values: []string{"0b6c5a3e-2d44-4f5e-9c1a-7f8e9d0a1b2c"}},
		{Name: "description", Values: []string{"two\nlines"}},
	},
}

func TestPrintEntryText(t *testing.T) {
	p, stdout, stderr := clientTestPrinter(FormatText)
	if err := p.Entry(testEntry); err != nil {
		t.Fatal(err)
	}
	want := `dn: uid=demo_service,ou=services,dc=idm,dc=example,dc=com
description: "two\nlines"
displayName: Demonstration Service
entryManagedBy: cn=demo_group,ou=groups,dc=idm,dc=example,dc=com
entryUUID: 0b6c5a3e-2d44-4f5e-9c1a-7f8e9d0a1b2c
objectClass: top
objectClass: ldapdServiceAccount
spn: demo_service@idm.example.com
uid: demo_service
`
	wantOnlyStdout(t, stdout, stderr, want)
}

func TestPrintEntryJSON(t *testing.T) {
	p, stdout, _ := clientTestPrinter(FormatJSON)
	if err := p.Entry(testEntry); err != nil {
		t.Fatal(err)
	}
	var got entryJSON
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if got.DN != testEntry.DN || len(got.Attributes) != len(testEntry.Attrs) ||
		strings.Join(got.Attributes["objectClass"], ",") != "top,ldapdServiceAccount" ||
		got.Attributes["spn"][0] != "demo_service@idm.example.com" {
		t.Errorf("got %+v", got)
	}
	if !strings.HasPrefix(stdout.String(), "{\n  \"dn\": ") {
		t.Errorf("not indented: %s", stdout)
	}
}

func TestPrintEntries(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		p, stdout, _ := clientTestPrinter(FormatText)
		small := admin.Entry{DN: "uid=a,ou=services,dc=x", Attrs: []admin.Attr{{Name: "uid", Values: []string{"a"}}}}
		p.Entries([]admin.Entry{small, small}, "none")
		if want := "dn: uid=a,ou=services,dc=x\nuid: a\n\ndn: uid=a,ou=services,dc=x\nuid: a\n"; stdout.String() != want {
			t.Errorf("got %q", stdout)
		}
	})
	t.Run("text empty", func(t *testing.T) {
		p, stdout, stderr := clientTestPrinter(FormatText)
		p.Entries(nil, "no service accounts")
		if stdout.Len() != 0 || stderr.String() != "no service accounts\n" {
			t.Errorf("stdout %q stderr %q", stdout, stderr)
		}
	})
	t.Run("json empty", func(t *testing.T) {
		p, stdout, stderr := clientTestPrinter(FormatJSON)
		p.Entries(nil, "no service accounts")
		if stdout.String() != "[]\n" || stderr.Len() != 0 {
			t.Errorf("stdout %q stderr %q", stdout, stderr)
		}
	})
}

var testTokens = []admin.Token{
	{
		ID: "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7", Label: "Test Token", Purpose: "read-only",
		IssuedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		IssuedBy: "uid=demo_user,ou=people,dc=idm,dc=example,dc=com",
	},
	{
		ID: "9f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f", Label: "CI", Purpose: "read-write",
		IssuedAt: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC),
		Expiry:   time.Date(2030, 9, 25, 1, 22, 2, 0, time.UTC),
		IssuedBy: "cn=someone,o=elsewhere",
	},
}

func TestPrintTokensText(t *testing.T) {
	p, stdout, stderr := clientTestPrinter(FormatText)
	if err := p.Tokens("demo_service", testTokens); err != nil {
		t.Fatal(err)
	}
	want := `token_id: 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7
label: Test Token
purpose: read-only
issued_at: 2026-03-01T22:00:00+10:00
expiry: never
issued_by: demo_user

token_id: 9f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f
label: CI
purpose: read-write
issued_at: 2026-03-02T22:00:00+10:00
expiry: 2030-09-25T11:22:02+10:00
issued_by: cn=someone,o=elsewhere
`
	wantOnlyStdout(t, stdout, stderr, want)
}

func TestPrintTokensJSON(t *testing.T) {
	p, stdout, _ := clientTestPrinter(FormatJSON)
	if err := p.Tokens("demo_service", testTokens); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	want := []map[string]any{
		{"token_id": "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7", "label": "Test Token", "purpose": "read-only",
			"issued_at": "2026-03-01T22:00:00+10:00", "expiry": nil, "issued_by": "demo_user",
			"issued_by_dn": "uid=demo_user,ou=people,dc=idm,dc=example,dc=com"},
		{"token_id": "9f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f", "label": "CI", "purpose": "read-write",
			"issued_at": "2026-03-02T22:00:00+10:00", "expiry": "2030-09-25T11:22:02+10:00", "issued_by": "cn=someone,o=elsewhere",
			"issued_by_dn": "cn=someone,o=elsewhere"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d tokens", len(got))
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("token %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
		if len(got[i]) != len(want[i]) {
			t.Errorf("token %d has keys %v", i, got[i])
		}
	}
}

func TestPrintTokensEmpty(t *testing.T) {
	p, stdout, stderr := clientTestPrinter(FormatText)
	p.Tokens("demo_service", nil)
	if stdout.Len() != 0 || stderr.String() != "service account demo_service has no API tokens\n" {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	p, stdout, stderr = clientTestPrinter(FormatJSON)
	p.Tokens("demo_service", nil)
	if stdout.String() != "[]\n" || stderr.Len() != 0 {
		t.Errorf("json: stdout %q stderr %q", stdout, stderr)
	}
}

func TestPrintGenerated(t *testing.T) {
	g := admin.GeneratedToken{Token: "eyJhbGciOiJFZERTQSJ9.eyJ0aWQiOiJ4In0.c2ln", ID: "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"}
	p, stdout, stderr := clientTestPrinter(FormatText)
	if err := p.Generated("demo_service", g); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != g.Token+"\n" {
		t.Errorf("stdout %q: the token must be alone on one line", stdout)
	}
	if !strings.HasPrefix(stderr.String(), "This token is shown once; it is not stored") || !strings.Contains(stderr.String(), g.ID) {
		t.Errorf("stderr %q", stderr)
	}

	p, stdout, _ = clientTestPrinter(FormatJSON)
	p.Generated("demo_service", g)
	var got map[string]string
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got) != 2 || got["token"] != g.Token || got["token_id"] != g.ID {
		t.Errorf("json %s (%v)", stdout, err)
	}
}

func TestPrintMembers(t *testing.T) {
	dns := []string{"uid=demo_user,ou=people,dc=idm,dc=example,dc=com", "cn=x,o=elsewhere"}
	p, stdout, _ := clientTestPrinter(FormatText)
	p.Members("demo_group", dns)
	if stdout.String() != "demo_user\ncn=x,o=elsewhere\n" {
		t.Errorf("text %q", stdout)
	}
	p, stdout, _ = clientTestPrinter(FormatJSON)
	p.Members("demo_group", dns)
	var got []memberJSON
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got) != 2 || got[0] != (memberJSON{"demo_user", dns[0]}) {
		t.Errorf("json %s (%v)", stdout, err)
	}
	p, stdout, stderr := clientTestPrinter(FormatText)
	p.Members("demo_group", nil)
	if stdout.Len() != 0 || stderr.String() != "group demo_group has no members\n" {
		t.Errorf("empty: stdout %q stderr %q", stdout, stderr)
	}
}

func TestPrintDone(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		want string
	}{
		{Outcome{Result: "created", Kind: "service-account", Name: "demo_service", DN: "uid=demo_service,ou=services,dc=x"},
			"created service account demo_service (uid=demo_service,ou=services,dc=x)"},
		{Outcome{Result: "updated", Kind: "service-account", Name: "demo_service"}, "updated service account demo_service"},
		{Outcome{Result: "created", Kind: "person", Name: "demo_user", DN: "uid=demo_user,ou=people,dc=x"}, "created person demo_user (uid=demo_user,ou=people,dc=x)"},
		{Outcome{Result: "deleted", Kind: "group", Name: "demo_group"}, "deleted group demo_group"},
		{Outcome{Result: "destroyed", Kind: "api-token", Name: "4de2", Account: "demo_service"}, "destroyed API token 4de2 of service account demo_service"},
	} {
		p, stdout, _ := clientTestPrinter(FormatText)
		if err := p.Done(tc.o); err != nil || stdout.String() != tc.want+"\n" {
			t.Errorf("Done(%+v) printed %q (%v), want %q", tc.o, stdout, err, tc.want)
		}
	}
	o := Outcome{Result: "created", Kind: "service-account", Name: "demo_service", DN: "uid=demo_service,ou=services,dc=x"}
	p, stdout, _ := clientTestPrinter(FormatJSON)
	p.Done(o)
	want := "{\n  \"result\": \"created\",\n  \"kind\": \"service-account\",\n  \"name\": \"demo_service\",\n  \"dn\": \"uid=demo_service,ou=services,dc=x\"\n}\n"
	if stdout.String() != want {
		t.Errorf("json %q", stdout)
	}
}

func TestPrintMembersChanged(t *testing.T) {
	ch := admin.MembershipChange{Changed: []string{"uid=demo_user,ou=people,dc=idm,dc=example,dc=com", "cn=x,o=elsewhere"}, Unchanged: []string{"cn=y,o=elsewhere"}}
	p, stdout, stderr := clientTestPrinter(FormatText)
	if err := p.MembersChanged("demo_group", true, ch); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "added to group demo_group: demo_user, cn=x,o=elsewhere\n" || stderr.String() != "cn=y,o=elsewhere is already a member of group demo_group\n" {
		t.Errorf("add: stdout %q stderr %q", stdout, stderr)
	}
	p, stdout, stderr = clientTestPrinter(FormatText)
	p.MembersChanged("demo_group", false, admin.MembershipChange{Unchanged: ch.Changed[:1]})
	if stdout.Len() != 0 || stderr.String() != "demo_user is not a member of group demo_group\n" {
		t.Errorf("remove nothing: stdout %q stderr %q", stdout, stderr)
	}
	p, stdout, _ = clientTestPrinter(FormatJSON)
	p.MembersChanged("demo_group", false, ch)
	var got Outcome
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Result != "members removed" || len(got.Changed) != 2 || len(got.Unchanged) != 1 {
		t.Errorf("json %s (%v)", stdout, err)
	}
}

func TestPrintPasswordSet(t *testing.T) {
	p, stdout, stderr := clientTestPrinter(FormatText)
	p.PasswordSet("demo_user", "")
	if stdout.String() != "set the password of demo_user\n" || stderr.Len() != 0 {
		t.Errorf("given: stdout %q stderr %q", stdout, stderr)
	}
	p, stdout, stderr = clientTestPrinter(FormatText)
	p.PasswordSet("demo_user", "gen-pw")
	if stdout.String() != "gen-pw\n" || !strings.Contains(stderr.String(), "it is shown once") {
		t.Errorf("generated: stdout %q stderr %q", stdout, stderr)
	}
	p, stdout, _ = clientTestPrinter(FormatJSON)
	p.PasswordSet("demo_user", "gen-pw")
	var got Outcome
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Password != "gen-pw" || got.Result != "password set" {
		t.Errorf("json %s (%v)", stdout, err)
	}
}
