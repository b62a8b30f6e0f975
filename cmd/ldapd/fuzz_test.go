package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzConfigFile: any configuration file is refused or applied, never a
// panic.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte("ldaps = \":636\"\nmax-connections = 4096\nidle-timeout = \"5m\"\n"))
	f.Add([]byte("allow-insecure-bind = true\n[table]\nx = 1\n"))
	f.Add([]byte("max-connections = \"many\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "ldapd.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var cfg serveConfig
		_ = applyConfigFile(serveFlags(&cfg), path)
	})
}
