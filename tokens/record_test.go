package tokens_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ldapd/ldapd/tokens"
)

func TestPurpose(t *testing.T) {
	var zero tokens.Purpose
	if zero != tokens.ReadOnly {
		t.Errorf("zero Purpose is %v, want read-only", zero)
	}
	for _, tc := range []struct {
		p    tokens.Purpose
		want string
	}{
		{tokens.ReadOnly, "read-only"},
		{tokens.ReadWrite, "read-write"},
		{tokens.Purpose(9), "Purpose(9)"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("Purpose(%d).String() = %q, want %q", uint8(tc.p), got, tc.want)
		}
	}
	for _, tc := range []struct {
		in      string
		want    tokens.Purpose
		wantErr bool
	}{
		{"read-only", tokens.ReadOnly, false},
		{"ro", tokens.ReadOnly, false},
		{"READ-WRITE", tokens.ReadWrite, false},
		{"rw", tokens.ReadWrite, false},
		{"", 0, true},
		{"write", 0, true},
		{"read-only ", 0, true},
	} {
		got, err := tokens.ParsePurpose(tc.in)
		if tc.wantErr {
			if !errors.Is(err, tokens.ErrInvalidPurpose) {
				t.Errorf("ParsePurpose(%q) error = %v, want ErrInvalidPurpose", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePurpose(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := tokens.Purpose(5).MarshalText(); !errors.Is(err, tokens.ErrInvalidPurpose) {
		t.Errorf("MarshalText(5) error = %v, want ErrInvalidPurpose", err)
	}
}

func TestID(t *testing.T) {
	const s = "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"
	id, err := tokens.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != s {
		t.Errorf("String() = %s, want %s", id, s)
	}
	if id2, err := tokens.ParseID("4DE2A4E9E06A4C5E8A1B33F4E7DD5DC7"); err != nil || id2 != id {
		t.Errorf("ParseID(hex) = %s, %v; want %s", id2, err, id)
	}
	for _, bad := range []string{"", "4de2a4e9", "zde2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"} {
		if _, err := tokens.ParseID(bad); !errors.Is(err, tokens.ErrInvalidID) {
			t.Errorf("ParseID(%q) error = %v, want ErrInvalidID", bad, err)
		}
	}
}

// TestRecordJSON: IDs and purposes marshal as text, for the CLI's -o json.
func TestRecordJSON(t *testing.T) {
	id, _ := tokens.ParseID("4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7")
	in := struct {
		ID      tokens.ID      `json:"id"`
		Purpose tokens.Purpose `json:"purpose"`
	}{id, tokens.ReadWrite}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7","purpose":"read-write"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	out := in
	out.ID, out.Purpose = tokens.ID{}, tokens.ReadOnly
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v; want %+v", out, err, in)
	}
}

func TestRecordExpired(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expiry time.Time
		now    time.Time
		want   bool
	}{
		{"never", time.Time{}, t0.Add(1000 * time.Hour), false},
		{"before", t0.Add(time.Hour), t0, false},
		{"just before", t0.Add(time.Hour), t0.Add(time.Hour - 1), false},
		{"at", t0.Add(time.Hour), t0.Add(time.Hour), true},
		{"after", t0.Add(time.Hour), t0.Add(2 * time.Hour), true},
	} {
		if got := (tokens.Record{Expiry: tc.expiry}).Expired(tc.now); got != tc.want {
			t.Errorf("%s: Expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}
