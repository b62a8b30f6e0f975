package stacktest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// logLines decodes the stack's JSON log lines.
func logLines(t *testing.T, s *stacktest.Stack) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLogLine checks the one line per operation carries what an
// operator filters on: connection id, client address, operation, target,
// bound identity, result code and duration.
func TestAccessLogLine(t *testing.T) {
	s := stacktest.New(t)
	c := s.IDMAdmin(t)
	defer c.Close()
	base := "ou=people," + stacktest.Base
	if _, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil)); err != nil {
		t.Fatal(err)
	}
	// The access line is written just after the response; the answer to a
	// second request proves the first one's line is out.
	if _, err := c.WhoAmI(nil); err != nil {
		t.Fatal(err)
	}
	var access map[string]any
	for _, m := range logLines(t, s) {
		if m["op"] == "search" && m["target"] == base {
			access = m
		}
	}
	if access == nil {
		t.Fatalf("no access line for the search in:\n%s", s.Logs())
	}
	for _, k := range []string{"conn", "remote", "op", "target", "identity", "code", "duration", "msgid", "level"} {
		if _, ok := access[k]; !ok {
			t.Errorf("access line lacks %q: %v", k, access)
		}
	}
	// duration is a JSON number of milliseconds (docs/operations.md): a
	// search of one entry over loopback takes more than nothing and less
	// than ten seconds.
	if d, ok := access["duration"].(float64); !ok || d <= 0 || d >= 10000 {
		t.Errorf("duration = %v, want a number of milliseconds", access["duration"])
	}
	if !strings.HasPrefix(access["remote"].(string), "127.0.0.1:") {
		t.Errorf("remote = %v, want the client's 127.0.0.1:port", access["remote"])
	}
	if access["code"] != 0.0 || !strings.HasPrefix(strings.ToLower(access["identity"].(string)), "uid=idm_admin,") {
		t.Errorf("code %v identity %v", access["code"], access["identity"])
	}
}

// TestSecurityEventsMarked checks that failed binds, token issue and
// revocation are logged with "event":"security" and never with the secret.
func TestSecurityEventsMarked(t *testing.T) {
	s := stacktest.New(t)
	c := s.Dial(t)
	defer c.Close()
	if err := c.Bind("idm_admin", "wrong-password-xyzzy"); err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	// The event's cause is the metrics' label value (one vocabulary), the
	// detail says more, and conn is the connection's id, as on the access
	// line of the same bind: one query finds both.
	var found bool
	var eventConn, accessConn any
	// The access line is written after the response, so the client may
	// read its answer before the line exists: wait for it (at most 2 s).
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, m := range logLines(t, s) {
			if m["event"] == "security" && m["message"] == "bind failed" && m["cause"] == idm.CauseBadPassword && m["detail"] == "wrong password" {
				found, eventConn = true, m["conn"]
			}
			if m["op"] == "bind" && m["target"] == "idm_admin" {
				accessConn = m["conn"]
			}
		}
		if accessConn != nil || time.Now().After(deadline) {
			break
		}
	}
	if !found {
		t.Errorf("no security event with cause %q and detail \"wrong password\" for the failed bind in:\n%s", idm.CauseBadPassword, s.Logs())
	}
	if eventConn == nil || eventConn != accessConn {
		t.Errorf("security event conn %v, access line conn %v: want the same connection id in both:\n%s", eventConn, accessConn, s.Logs())
	}
	if strings.Contains(s.Logs(), "wrong-password-xyzzy") {
		t.Error("the log holds the password")
	}
}
