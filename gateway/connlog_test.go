package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// TestSecurityEventsNameTheConnection: a failed bind's security event
// carries the id of the connection it came on, the same as that
// connection's access lines, and the client's address; the connection's
// later operations too (they share the values made when it opened).
func TestSecurityEventsNameTheConnection(t *testing.T) {
	s := stacktest.New(t)
	c := s.Dial(t)
	for range 2 {
		wantCode(t, "bind with a wrong password", c.Bind("admin", "wrong"), 49)
	}
	var events, access []map[string]any
	// The access line follows the response: wait for the second.
	for deadline := time.Now().Add(5 * time.Second); len(access) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		events, access = failedBindLines(s.Logs())
	}
	if len(events) != 2 || len(access) != 2 {
		t.Fatalf("%d security events and %d access lines of failed binds, want 2 each:\n%s", len(events), len(access), s.Logs())
	}
	for i, ev := range events {
		if ev["conn"] == nil || ev["conn"] != access[i]["conn"] || ev["conn"] != access[0]["conn"] {
			t.Errorf("event %d names connection %v, its access line %v", i, ev["conn"], access[i]["conn"])
		}
		if client, _ := ev["client"].(string); client != "127.0.0.1" {
			t.Errorf("event %d names client %q, want 127.0.0.1", i, client)
		}
	}
}

// failedBindLines returns the security events and the access lines of the
// failed binds in logs.
func failedBindLines(logs string) (events, access []map[string]any) {
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			continue
		}
		switch {
		case m["event"] == "security" && m["message"] == "bind failed":
			events = append(events, m)
		case m["op"] == "bind" && m["code"] == float64(49):
			access = append(access, m)
		}
	}
	return events, access
}
