package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/tokens"
)

// A backup archive holds everything a restore needs to serve as the old
// server did: the token signing keyring (old tokens keep working), the
// generated TLS material of DATA/tls (old clients keep trusting ca.pem
// and the server certificate) and a hot copy of the bbolt file. Layout:
//
//	"LDAPDBK2"                     magic ("LDAPDBK1": no file section)
//	uint32 big-endian              keyring length K
//	K bytes                        tokens.Keyring.MarshalBinary (secret)
//	uint32 big-endian              number of files F (BK2 only)
//	F times:                       a file of the data directory
//	  uint16 N, N bytes              its slash-separated path under DATA
//	  uint32                         its mode bits (0600 for a key)
//	  uint32 L, L bytes              its contents
//	D bytes                        the database (bbolt Tx.WriteTo)
//	uint64 big-endian              D
//	32 bytes                       SHA-256 of everything before it
//
// The archive holds the signing keys and the TLS server key, so it is as
// secret as DATA/keys: it is created with mode 0600 and must be stored
// accordingly.
const (
	// Magic begins every archive this version writes.
	Magic   = "LDAPDBK2"
	magicV1 = "LDAPDBK1"
)

// Mode is the mode of a new archive: it holds the signing keys.
const Mode = 0o600

// Bounds a reader applies to the file section.
const (
	maxFiles    = 64
	maxFileSize = 1 << 20
)

// HotCopier is the part of boltstore's store a backup needs: a
// consistent copy of the database written while it serves.
type HotCopier interface {
	Backup(w io.Writer) (int64, error)
}

// File is a file of the data directory carried by an archive.
type File struct {
	Name string      // slash-separated, relative to DATA, e.g. "tls/ca.pem"
	Mode fs.FileMode // permission bits
	Data []byte
}

// DataFiles reads the regular files directly in DATA/tls (the generated CA
// and server key pair), for an archive; none if the directory does not
// exist (the operator's --tls-cert files are theirs to back up).
func DataFiles(data string) ([]File, error) {
	dir := datastore.TLSDir(data)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var files []File
	for _, de := range ents {
		if !de.Type().IsRegular() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if fi.Size() > maxFileSize || len(files) == maxFiles {
			return nil, fmt.Errorf("backup: %s: too large or too many files for an archive", dir)
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		files = append(files, File{Name: "tls/" + de.Name(), Mode: fi.Mode().Perm(), Data: b})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// Write writes the archive of db, keys and files to w.
func Write(w io.Writer, db HotCopier, keys *tokens.Keyring, files []File) error {
	kb, err := keys.MarshalBinary()
	if err != nil {
		return fmt.Errorf("backup keyring: %w", err)
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	head := append([]byte(Magic), binary.BigEndian.AppendUint32(nil, uint32(len(kb)))...)
	head = append(head, kb...)
	head = binary.BigEndian.AppendUint32(head, uint32(len(files)))
	for _, f := range files {
		head = binary.BigEndian.AppendUint16(head, uint16(len(f.Name)))
		head = append(head, f.Name...)
		head = binary.BigEndian.AppendUint32(head, uint32(f.Mode.Perm()))
		head = binary.BigEndian.AppendUint32(head, uint32(len(f.Data)))
		head = append(head, f.Data...)
	}
	if _, err := mw.Write(head); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, err := db.Backup(mw)
	if err != nil {
		return err
	}
	if _, err := mw.Write(binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// ErrBadArchive is returned by Read for a file that is not a whole,
// unaltered archive.
var ErrBadArchive = errors.New("not a valid ldapd backup archive")

// Archive is what Read found in a checked archive.
type Archive struct {
	Keys         *tokens.Keyring
	Files        []File
	DBOff, DBLen int64 // the database's place in the file
}

// Read checks the archive in f (its checksum, then its layout) and
// returns its keyring, its files and the database's offset and length in f.
func Read(f *os.File) (*Archive, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	minSize := int64(len(Magic) + 4 + 8 + sha256.Size)
	if size < minSize {
		return nil, fmt.Errorf("%w: too short", ErrBadArchive)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size-sha256.Size)); err != nil {
		return nil, err
	}
	sum := make([]byte, sha256.Size)
	if _, err := f.ReadAt(sum, size-sha256.Size); err != nil {
		return nil, err
	}
	if !bytes.Equal(sum, h.Sum(nil)) {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrBadArchive)
	}
	tail := make([]byte, 8)
	if _, err := f.ReadAt(tail, size-sha256.Size-8); err != nil {
		return nil, err
	}
	dbLen := binary.BigEndian.Uint64(tail)
	if dbLen > uint64(size) {
		return nil, fmt.Errorf("%w: inconsistent lengths", ErrBadArchive)
	}
	a := &Archive{DBLen: int64(dbLen)}
	headEnd := size - sha256.Size - 8 - a.DBLen
	if headEnd < int64(len(Magic)+4) {
		return nil, fmt.Errorf("%w: inconsistent lengths", ErrBadArchive)
	}
	head := make([]byte, headEnd)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, err
	}
	magic := string(head[:len(Magic)])
	if magic != Magic && magic != magicV1 {
		return nil, fmt.Errorf("%w: bad magic", ErrBadArchive)
	}
	r := &headReader{b: head[len(Magic):]}
	kb := r.bytes(int(r.u32()))
	a.Keys = &tokens.Keyring{}
	if r.bad {
		return nil, fmt.Errorf("%w: inconsistent lengths", ErrBadArchive)
	}
	if err := a.Keys.UnmarshalBinary(kb); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadArchive, err)
	}
	if magic == Magic {
		n := r.u32()
		if n > maxFiles {
			return nil, fmt.Errorf("%w: %d files", ErrBadArchive, n)
		}
		for range n {
			name := string(r.bytes(int(r.u16())))
			mode := fs.FileMode(r.u32()).Perm()
			data := r.bytes(int(r.u32()))
			if r.bad {
				break
			}
			if !validName(name) {
				return nil, fmt.Errorf("%w: file name %q", ErrBadArchive, name)
			}
			a.Files = append(a.Files, File{Name: name, Mode: mode, Data: data})
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: inconsistent lengths", ErrBadArchive)
	}
	a.DBOff = headEnd
	return a, nil
}

// validName accepts only tls/NAME: a restore writes nothing else.
func validName(name string) bool {
	dir, base := path.Split(name)
	return dir == "tls/" && base != "" && base != "." && base != ".." && !strings.ContainsAny(base, "/\\\x00") &&
		!strings.HasPrefix(base, ".")
}

// headReader reads the archive's head; bad is set (and zeros returned) at
// the first read past its end.
type headReader struct {
	b   []byte
	bad bool
}

func (r *headReader) bytes(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *headReader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *headReader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}
