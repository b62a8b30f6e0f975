package idm

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldif"
)

// ImportLDIF imports the LDIF file at path (Import, which reads it once or
// twice). progress, if not nil, is called as Import's progress is, with the
// byte offset in the file of the record read last. A record whose DN does
// not parse fails the import with its line number.
func (s *Service) ImportLDIF(ctx context.Context, path string, progress func(pass, n int, offset int64)) (ImportStats, error) {
	var offset atomic.Int64 // of the record read last
	var file *os.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	open := func() (func() (ImportRecord, error), error) {
		if file != nil {
			file.Close()
		}
		var err error
		if file, err = os.Open(path); err != nil {
			return nil, err
		}
		r := ldif.NewReader(file)
		return func() (ImportRecord, error) {
			b, err := r.NextBlock()
			if err != nil {
				return ImportRecord{}, err
			}
			offset.Store(r.Offset())
			return ImportRecord{Line: b.Line(), Decode: func() (*directory.Entry, error) { return decodeLDIF(b) }}, nil
		}, nil
	}
	var each func(pass, n int)
	if progress != nil {
		each = func(pass, n int) { progress(pass, n, offset.Load()) }
	}
	return s.Import(ctx, open, each)
}

// decodeLDIF parses one LDIF record into an entry to import.
func decodeLDIF(b ldif.Block) (*directory.Entry, error) {
	rec, err := b.Parse()
	if err != nil {
		return nil, err
	}
	dn, err := directory.ParseDN(rec.DN)
	if err != nil {
		return nil, fmt.Errorf("line %d: dn %q: %w", rec.Line, rec.DN, err)
	}
	// The record's attributes are grouped by name as an Entry's are, and
	// its values are the record's own (their capacity ends at their
	// length: an append copies): taken as they are.
	ent := &directory.Entry{DN: dn, Attrs: make([]directory.Attr, len(rec.Attrs), len(rec.Attrs)+8)}
	for i, a := range rec.Attrs {
		ent.Attrs[i] = directory.Attr{Name: a.Name, Values: a.Values}
	}
	return ent, nil
}

// ExportLDIF writes every entry under the base to w as LDIF (Export: parents
// before their children, operational attributes and password hashes
// included), and flushes it.
func (s *Service) ExportLDIF(ctx context.Context, w io.Writer) error {
	lw := ldif.NewWriter(w)
	attrs := make([]ldif.Attr, 0, 32)
	err := s.Export(ctx, func(ent *directory.Entry) error {
		attrs = attrs[:0]
		for _, a := range ent.Attrs {
			attrs = append(attrs, ldif.Attr{Name: a.Name, Values: a.Values})
		}
		return lw.Write(ent.DN.String(), attrs)
	})
	if err != nil {
		return err
	}
	return lw.Flush()
}
