package main

// The cap on tokens per service account and the audit that `api-token
// status` is, through the real CLI against the server on loopback: a
// manager cannot generate past the cap, and status lists every token even
// when records planted past the cap (by root or an import) outnumber the
// server's size limit (10,000), so a planted token cannot hide.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// plantTokens adds n token records under demo_service straight into the
// store, as root or an import could, and returns their ids.
func plantTokens(t *testing.T, d *demo, n int) []string {
	t.Helper()
	ids := make([]string, n)
	issued := directory.FormatGeneralizedTime(time.Now())
	err := d.Store.Update(context.Background(), func(tx directory.WriteTx) error {
		for i := range ids {
			ids[i] = uuid.NewString()
			e := directory.NewEntry(directory.MustParseDN("ldapdTokenId=" + ids[i] + "," + demoServiceDN))
			e.Set("objectClass", "top", directory.ClassAPIToken)
			e.Set(directory.AttrTokenID, ids[i])
			e.Set(directory.AttrTokenLabel, fmt.Sprintf("planted %d", i))
			e.Set(directory.AttrTokenPurpose, "read-only")
			e.Set(directory.AttrTokenIssuedAt, issued)
			if err := tx.Add(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestTokenCapAndFullStatus(t *testing.T) {
	d := seedSetup(t)
	const limit = idm.DefaultMaxTokensPerAccount
	plantTokens(t, d, limit-1)

	// The manager's generate that reaches the cap works; the next one is
	// refused, saying what the cap is and what to do.
	token, id := d.generate(t, "demo_user", "demo_service", "at the cap")
	d.tokenWhoami(t, token)
	d.refused(t, 1, fmt.Sprintf("demo_service already holds the most API tokens a service account may have (%d, --max-tokens-per-account); destroy tokens it no longer needs", limit),
		"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "past the cap")
	if n := len(d.statusJSON(t, "demo_user")); n != limit {
		t.Fatalf("status lists %d tokens after the refusal, want %d", n, limit)
	}
	// Destroying one makes room for one.
	d.must(t, "service-account", "api-token", "destroy", "--name", "demo_user", "demo_service", id)
	_, id = d.generate(t, "demo_user", "demo_service", "after a destroy")

	// Past the server's size limit, status still lists every token, the
	// manager's among them, as text and as JSON.
	planted := plantTokens(t, d, 10001-limit+1)
	want := limit + len(planted)
	if want <= 10000 {
		t.Fatalf("the test plants %d tokens, not more than the size limit", want)
	}
	got := d.statusJSON(t, "demo_user")
	if len(got) != want {
		t.Errorf("status -o json lists %d tokens, want %d", len(got), want)
	}
	for _, id := range []string{id, planted[0], planted[len(planted)-1]} {
		if _, ok := got[id]; !ok {
			t.Errorf("status -o json does not list token %s", id)
		}
	}
	text := d.statusText(t, "idm_admin")
	if len(text) != want || text[id]["label"] != "after a destroy" {
		t.Errorf("status as idm_admin lists %d tokens (want %d); the manager's: %v", len(text), want, text[id])
	}
}

// --max-tokens-per-account, its variable and its file key set the cap; a
// cap below 1 is refused.
func TestMaxTokensPerAccountOption(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		file    string
		want    int
	}{
		{"default", nil, nil, "", idm.DefaultMaxTokensPerAccount},
		{"file", nil, nil, "max-tokens-per-account = 20\n", 20},
		{"environment over file", nil, map[string]string{"LDAPD_MAX_TOKENS_PER_ACCOUNT": "30"}, "max-tokens-per-account = 20\n", 30},
		{"flag over environment", []string{"--max-tokens-per-account", "40"}, map[string]string{"LDAPD_MAX_TOKENS_PER_ACCOUNT": "30"}, "", 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadServeConfig(t, tt.args, tt.environ, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxTokens != tt.want {
				t.Errorf("max tokens = %d, want %d", cfg.MaxTokens, tt.want)
			}
		})
	}
	_, err := loadServeConfig(t, nil, nil, "max-tokens-per-account = 0\n")
	if err == nil || !strings.Contains(err.Error(), `line 1: max-tokens-per-account: invalid value "0": want a whole number of at least 1`) {
		t.Errorf("cap 0 in the file: err = %v", err)
	}
}
