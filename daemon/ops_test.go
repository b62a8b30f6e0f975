package daemon

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/storetest"
)

// TestServeStoreHidesNoCapability: the store serve gives idm (timed with
// --metrics) offers all the opened store does, directory.Versioned first:
// without it idm's caches turn off.
func TestServeStoreHidesNoCapability(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:0"} {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "ldapd.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		storetest.CheckWrapper(t, s, newOps(addr, s).wrap)
	}
}

// TestNewLoggerJSON: the json format (what --log-format auto gives when
// stderr is not a terminal) writes one JSON object per line, level first.
func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("event", "security").Msg("x")
	if !strings.HasPrefix(buf.String(), `{"level":"info","event":"security",`) {
		t.Errorf("log line %q", buf.String())
	}
	if _, err := newLogger(&buf, "loud", "json"); err == nil || !strings.Contains(err.Error(), "invalid --log-level") {
		t.Errorf("--log-level loud: %v", err)
	}
}
