package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ldapd/ldapd/tokens"
)

// FuzzReadArchive: a backup archive from anywhere (a damaged disk, an
// attacker's file handed to restore) never panics the reader, and only a
// checksummed, well-formed archive is accepted.
func FuzzReadArchive(f *testing.F) {
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	files := []archiveFile{{Name: "tls/ca.pem", Mode: 0o644, Data: []byte("-----BEGIN CERTIFICATE-----")}}
	if err := writeArchive(&good, fakeDB("bbolt pages"), keys, files); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(archiveMagic))
	f.Add(append([]byte(archiveMagic), 0xff, 0xff, 0xff, 0xff))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "a")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		a, err := readArchive(fh)
		if err != nil {
			return
		}
		if a.keys == nil || a.dbOff < 0 || a.dbLen < 0 || a.dbOff+a.dbLen > int64(len(data)) {
			t.Fatalf("accepted archive with keyring %v, db at %d+%d of %d bytes", a.keys, a.dbOff, a.dbLen, len(data))
		}
		for _, f := range a.files {
			if !validArchiveName(f.Name) {
				t.Fatalf("accepted file name %q", f.Name)
			}
		}
	})
}

// fakeDB is a hotCopier writing fixed bytes.
type fakeDB string

func (d fakeDB) Backup(w io.Writer) (int64, error) {
	n, err := w.Write([]byte(d))
	return int64(n), err
}

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
