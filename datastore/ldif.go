package datastore

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
)

// MinImportMemory is the smallest ImportOptions.MaxMemory: below it the
// runtime and the first pass's maps alone would exceed the bound.
const MinImportMemory = 64 << 20

// ImportOptions are what Import takes besides the store.
type ImportOptions struct {
	// Domain creates the directory when the store holds none yet; ""
	// requires an existing one (OpenOffline).
	Domain string
	// Chunk, if positive, bounds the entries added per transaction.
	Chunk int
	// MaxMemory is the Go heap's soft limit during the import (unless
	// GOMEMLIMIT is set); a transaction holds at most a quarter of it.
	MaxMemory int64
	// Progress, if set, is told of the records read (idm.ImportLDIF).
	Progress func(pass, n int, offset int64)
}

// Import adds the entries of the LDIF file at path to a stopped server's
// directory (the bbolt file of data, or the cluster c names): all of them
// or, if the file has a bad record, none (idm.Service.ImportLDIF). The
// bbolt file is mapped large enough for the load (ImportMmapSize), opened
// for this import alone (a large bulk load writes a new file directly,
// boltstore.Options.Exclusive) and compacted afterwards if that shrinks
// it.
func Import(ctx context.Context, c Config, data, path string, o ImportOptions) (idm.ImportStats, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return idm.ImportStats{}, err
	}
	svc, closeStore, err := OpenOffline(ctx, c, data, o.Domain, OfflineOptions{
		MmapSize: ImportMmapSize(data, fi.Size()), ImportChunk: o.Chunk, ImportChunkBytes: o.MaxMemory / 4,
		ImportSpoolDir: data, Exclusive: true})
	if err != nil {
		return idm.ImportStats{}, err
	}
	defer closeStore()
	if os.Getenv("GOGC") == "" {
		// The import's heap is mostly live (the entries it keeps, the
		// transaction's nodes): collecting at every doubling rescans it
		// again and again for little garbage; but a heap let grow to five
		// times what is live costs more in page faults (fresh memory)
		// than the collections it saves. At 100k people (CPU s, 3 runs):
		// GOGC 100 4.5-4.9, 200 4.3-4.5, 400 5.1-5.6 (peak RSS 0.4, 0.46,
		// 0.75 GB), off 6.4. Chunk bounds it.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// But the first pass's maps of every DN and uid grow with the
		// file: past MaxMemory the collector works harder instead of
		// letting the heap grow to five times what is live.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(o.MaxMemory))
	}
	st, err := svc.ImportLDIF(ctx, path, o.Progress)
	if err != nil && st.Added == 0 {
		return st, fmt.Errorf("nothing imported: %w", err)
	}
	if err != nil {
		return st, err
	}
	// Entries added by transactions of their own, or by several bulk
	// loads, leave bbolt's pages partly filled; compacting them shrinks the
	// file (and the memory a full scan maps). One bulk load filled them
	// (then the check alone runs); the load the import makes of the whole
	// file on this exclusive store (boltstore's BeginLoad) wrote a new
	// file, full: not even the check (a walk of every page) is needed.
	closeStore()
	if c.Kind != Etcd && !st.Loaded {
		if _, err := boltstore.CompactIfSparse(DBPath(data), o.MaxMemory/12); err != nil {
			return st, fmt.Errorf("entries imported; %w", err)
		}
	}
	return st, nil
}

// ReportImport writes to w what an import left as it was, one line each:
// the entries skipped because they exist (ten at most), the built-in
// entries merged or not merged, and the attribute values dropped.
func ReportImport(w io.Writer, st idm.ImportStats) {
	for i, dn := range st.Skipped {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more\n", len(st.Skipped)-10)
			break
		}
		fmt.Fprintf(w, "skipped %s: it already exists\n", dn)
	}
	if len(st.Merged) > 0 {
		fmt.Fprintf(w, "merged %d built-in entries (the file's members, passwords and descriptions replace this directory's)\n", len(st.Merged))
	}
	for _, nm := range st.NotMerged {
		fmt.Fprintf(w, "not merged %s: the built-in entry's object classes do not allow it\n", nm)
	}
	for name, n := range st.Dropped {
		fmt.Fprintf(w, "dropped %d %s value(s): ldapd recomputes or does not keep them\n", n, name)
	}
}

// Export writes every entry of a stopped server's directory as LDIF to
// the file path (created with mode 0600, as it holds password hashes, and
// synced), or to stdout when path is "".
func Export(ctx context.Context, c Config, data, path string, stdout io.Writer) error {
	svc, closeStore, err := OpenOffline(ctx, c, data, "", OfflineOptions{})
	if err != nil {
		return err
	}
	defer closeStore()
	if path == "" {
		return svc.ExportLDIF(ctx, stdout)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := svc.ExportLDIF(ctx, f); err != nil {
		return err
	}
	return f.Sync()
}
