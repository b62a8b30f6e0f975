package main

import (
	"strings"
	"testing"
	"time"
)

// TestServeLogsSurviveSIGTERM: the access lines of the last operations
// before a SIGTERM are in the log after the server exits, though they were
// answered well within one flush interval of the signal.
func TestServeLogsSurviveSIGTERM(t *testing.T) {
	bin := buildLdapd(t)
	p := startServe(t, bin, t.TempDir()+"/data")
	c := p.dial(t, "", "")
	for range 3 {
		if _, err := c.WhoAmI(nil); err != nil {
			t.Fatal(err)
		}
	}
	if code := p.terminate(t, 20*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, p.log())
	}
	c.Close()
	if n := strings.Count(p.log(), `"op":"extended"`); n != 3 {
		t.Errorf("%d WhoAmI access lines after SIGTERM, want 3:\n%s", n, p.log())
	}
}
