package admin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    time.Time
		wantErr error
	}{
		{"offset", "2030-09-25T11:22:02+10:00", time.Date(2030, 9, 25, 1, 22, 2, 0, time.UTC), nil},
		{"utc", "2030-09-25T01:22:02Z", time.Date(2030, 9, 25, 1, 22, 2, 0, time.UTC), nil},
		{"fraction", "2030-09-25T01:22:02.5Z", time.Date(2030, 9, 25, 1, 22, 2, 5e8, time.UTC), nil},
		{"one second ahead", "2026-03-01T12:00:01Z", now.Add(time.Second), nil},
		{"the seed's example is past", "2020-09-25T11:22:02+10:00", time.Time{}, ErrExpiryPast},
		{"now is past", "2026-03-01T12:00:00Z", time.Time{}, ErrExpiryPast},
		{"date only", "2030-09-25", time.Time{}, ErrExpiryFormat},
		{"no offset", "2030-09-25T11:22:02", time.Time{}, ErrExpiryFormat},
		{"space instead of T", "2030-09-25 11:22:02+10:00", time.Time{}, ErrExpiryFormat},
		{"relative", "30d", time.Time{}, ErrExpiryFormat},
		{"generalized time", "20300925012202Z", time.Time{}, ErrExpiryFormat},
		{"empty", "", time.Time{}, ErrExpiryFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExpiry(tc.in, now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseExpiryMessages(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	_, err := ParseExpiry("2030-09-25", now)
	if msg := err.Error(); !strings.Contains(msg, `expiry "2030-09-25" is not an RFC 3339 time`) || !strings.Contains(msg, "2020-09-25T11:22:02+10:00") {
		t.Errorf("malformed: %q", msg)
	}
	_, err = ParseExpiry("2020-09-25T11:22:02+10:00", now)
	if msg := err.Error(); !strings.Contains(msg, "expiry 2020-09-25T11:22:02+10:00 is in the past") || !strings.Contains(msg, "2026-03-01T22:00:00+10:00") {
		t.Errorf("past: %q", msg)
	}
}

func TestValidTokenID(t *testing.T) {
	for in, want := range map[string]bool{
		"4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7":          true,
		"4DE2A4E9-E06A-4C5E-8A1B-33F4E7DD5DC7":          true,
		"4de2a4e9e06a4c5e8a1b33f4e7dd5dc7":              false,
		"urn:uuid:4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7": false,
		"Test Token": false,
		"":           false,
	} {
		if got := ValidTokenID(in); got != want {
			t.Errorf("ValidTokenID(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestTokenSearch(t *testing.T) {
	req := tokenSearch("uid=demo_service,ou=services,dc=idm,dc=example,dc=com")
	if req.BaseDN != "uid=demo_service,ou=services,dc=idm,dc=example,dc=com" || req.Scope != ldap.ScopeSingleLevel ||
		req.Filter != "(objectClass=ldapdApiToken)" {
		t.Errorf("search: base %q scope %d filter %q", req.BaseDN, req.Scope, req.Filter)
	}
	want := []string{"ldapdTokenId", "ldapdTokenLabel", "ldapdTokenPurpose", "ldapdTokenIssuedAt", "ldapdTokenExpiry", "ldapdTokenIssuedBy"}
	if strings.Join(req.Attributes, " ") != strings.Join(want, " ") {
		t.Errorf("attributes %v, want %v", req.Attributes, want)
	}
}

func TestTokenFrom(t *testing.T) {
	const dn = "ldapdTokenId=4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7,uid=demo_service,ou=services,dc=idm,dc=example,dc=com"
	e := Entry{DN: dn, Attrs: []Attr{
		{directory.AttrTokenID, []string{"4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"}},
		{"ldapdtokenlabel", []string{"Test Token"}}, // any case
		{directory.AttrTokenPurpose, []string{"read-write"}},
		{directory.AttrTokenIssuedAt, []string{"20260301120000Z"}},
		{directory.AttrTokenExpiry, []string{"20300925012202Z"}},
		{directory.AttrTokenIssuedBy, []string{"uid=demo_user,ou=people,dc=idm,dc=example,dc=com"}},
	}}
	got, err := tokenFrom(e)
	if err != nil {
		t.Fatal(err)
	}
	want := Token{
		ID: "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7", DN: dn, Label: "Test Token", Purpose: "read-write",
		IssuedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Expiry:   time.Date(2030, 9, 25, 1, 22, 2, 0, time.UTC),
		IssuedBy: "uid=demo_user,ou=people,dc=idm,dc=example,dc=com",
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	t.Run("no expiry means never", func(t *testing.T) {
		e := Entry{DN: dn, Attrs: []Attr{{directory.AttrTokenID, []string{"x"}}}}
		got, err := tokenFrom(e)
		if err != nil || !got.Expiry.IsZero() {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	t.Run("no id", func(t *testing.T) {
		if _, err := tokenFrom(Entry{DN: dn}); err == nil {
			t.Error("accepted a record without id")
		}
	})
	t.Run("bad time", func(t *testing.T) {
		e := Entry{DN: dn, Attrs: []Attr{{directory.AttrTokenID, []string{"x"}}, {directory.AttrTokenExpiry, []string{"2030-09-25"}}}}
		if _, err := tokenFrom(e); err == nil || !strings.Contains(err.Error(), "ldapdTokenExpiry") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestParseGeneralizedTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20260925012202Z", time.Date(2026, 9, 25, 1, 22, 2, 0, time.UTC), true},
		{"202609250122Z", time.Date(2026, 9, 25, 1, 22, 0, 0, time.UTC), true},
		{"2026092501Z", time.Date(2026, 9, 25, 1, 0, 0, 0, time.UTC), true},
		{"20260925012202.5Z", time.Date(2026, 9, 25, 1, 22, 2, 5e8, time.UTC), true},
		{"20260925012202,25Z", time.Date(2026, 9, 25, 1, 22, 2, 25e7, time.UTC), true},
		{"2026092501.5Z", time.Date(2026, 9, 25, 1, 30, 0, 0, time.UTC), true},
		{"20260925112202+1000", time.Date(2026, 9, 25, 1, 22, 2, 0, time.UTC), true},
		{"20260924212202-04", time.Date(2026, 9, 25, 1, 22, 2, 0, time.UTC), true},
		{"20260925012202", time.Time{}, false}, // no zone
		{"2026-09-25T01:22:02Z", time.Time{}, false},
		{"20261325012202Z", time.Time{}, false}, // month 13
		{"2026092501220Z", time.Time{}, false},  // odd length
		{"20260925012202.Z", time.Time{}, false},
		{"20260925012202+10", time.Date(2026, 9, 24, 15, 22, 2, 0, time.UTC), true},
		{"20260925012202+1", time.Time{}, false},
		{"Z", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseGeneralizedTime(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (!got.Equal(tc.want) || got.Location() != time.UTC) {
				t.Errorf("got %v, want %v (UTC)", got, tc.want)
			}
		})
	}
}
