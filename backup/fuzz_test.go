package backup

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
	files := []File{{Name: "tls/ca.pem", Mode: 0o644, Data: []byte("-----BEGIN CERTIFICATE-----")}}
	if err := Write(&good, fakeDB("bbolt pages"), keys, files); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(Magic))
	f.Add(append([]byte(Magic), 0xff, 0xff, 0xff, 0xff))
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
		a, err := Read(fh)
		if err != nil {
			return
		}
		if a.Keys == nil || a.DBOff < 0 || a.DBLen < 0 || a.DBOff+a.DBLen > int64(len(data)) {
			t.Fatalf("accepted archive with keyring %v, db at %d+%d of %d bytes", a.Keys, a.DBOff, a.DBLen, len(data))
		}
		for _, f := range a.Files {
			if !validName(f.Name) {
				t.Fatalf("accepted file name %q", f.Name)
			}
		}
	})
}

// fakeDB is a HotCopier writing fixed bytes.
type fakeDB string

func (d fakeDB) Backup(w io.Writer) (int64, error) {
	n, err := w.Write([]byte(d))
	return int64(n), err
}
