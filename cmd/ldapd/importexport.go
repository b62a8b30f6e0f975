package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory/boltstore"
)

func runImport(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one LDIF file: %w", errUsage)
	}
	path := args[0]
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := o.store.check(); err != nil {
		return err
	}
	if o.chunk < 0 {
		return fmt.Errorf("--chunk must be positive: %w", errUsage)
	}
	memory, err := parseByteSize(o.maxMemory)
	if err != nil || memory < minImportMemory {
		return fmt.Errorf("--max-memory %q: want a size of at least 64MiB, such as 512MiB or 2GiB: %w", o.maxMemory, errUsage)
	}
	svc, closeStore, err := datastore.OpenOffline(ctx, o.store.options(), o.data, o.domain, datastore.OfflineOptions{
		MmapSize: datastore.ImportMmapSize(o.data, fi.Size()), ImportChunk: o.chunk, ImportChunkBytes: memory / 4})
	if err != nil {
		return usageIf(err)
	}
	defer closeStore()

	if os.Getenv("GOGC") == "" {
		// The import's heap is mostly live (the entries it keeps, the
		// transaction's nodes): collecting at every doubling rescans it
		// again and again for little garbage. --chunk bounds it.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// But the first pass's maps of every DN and uid grow with the
		// file: past --max-memory the collector works harder instead of
		// letting the heap grow to five times what is live.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memory))
	}
	bar := newProgress(e, fi.Size(), o.quiet)
	start := time.Now()
	st, err := svc.ImportLDIF(ctx, path, bar.update)
	bar.done()
	if err != nil && st.Added == 0 {
		return fmt.Errorf("nothing imported: %w", err)
	}
	if err != nil {
		return err
	}
	for i, dn := range st.Skipped {
		if i == 10 {
			fmt.Fprintf(e.stderr, "  ... and %d more\n", len(st.Skipped)-10)
			break
		}
		fmt.Fprintf(e.stderr, "skipped %s: it already exists\n", dn)
	}
	if len(st.Merged) > 0 {
		fmt.Fprintf(e.stderr, "merged %d built-in entries (the file's members, passwords and descriptions replace this directory's)\n", len(st.Merged))
	}
	for _, nm := range st.NotMerged {
		fmt.Fprintf(e.stderr, "not merged %s: the built-in entry's object classes do not allow it\n", nm)
	}
	for name, n := range st.Dropped {
		fmt.Fprintf(e.stderr, "dropped %d %s value(s): ldapd recomputes or does not keep them\n", n, name)
	}
	// Entries added by transactions of their own, or by several bulk
	// loads, leave bbolt's pages partly filled; compacting them shrinks the
	// file (and the memory a full scan maps). One bulk load filled them.
	closeStore()
	if o.store.Kind != storeEtcd {
		if _, err := boltstore.CompactIfSparse(dbPath(o.data), memory/12); err != nil {
			return fmt.Errorf("entries imported; %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "imported %d entries (%d built-in merged, %d skipped) in %v\n", st.Added, len(st.Merged), len(st.Skipped), time.Since(start).Round(time.Millisecond))
	return nil
}

func runExport(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected arguments %q: %w", args, errUsage)
	}
	if err := o.store.check(); err != nil {
		return err
	}
	svc, closeStore, err := datastore.OpenOffline(ctx, o.store.options(), o.data, "", datastore.OfflineOptions{})
	if err != nil {
		return usageIf(err)
	}
	defer closeStore()
	dst := e.stdout
	if o.out != "-" {
		f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	if err := svc.ExportLDIF(ctx, dst); err != nil {
		return err
	}
	if f, ok := dst.(*os.File); ok && o.out != "-" {
		return f.Sync()
	}
	return nil
}

// minImportMemory is the smallest --max-memory: below it the runtime and
// the first pass's maps alone would exceed the bound.
const minImportMemory = 64 << 20

// parseByteSize parses a size such as 512MiB, 2GiB, 64M or 1048576.
func parseByteSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiBb")
	unit := strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "i")
	shift, ok := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if !ok || err != nil || n < 0 || n > 1<<(62-shift) {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n << shift, nil
}

// existingData is datastore.ExistingData, a missing database a usage
// error.
func existingData(data string) error { return usageIf(datastore.ExistingData(data)) }

// progress draws a one-line progress bar on a terminal; elsewhere it is
// silent.
type progress struct {
	w     io.Writer
	size  int64
	on    bool
	last  time.Time
	start time.Time
}

func newProgress(e *env, size int64, quiet bool) *progress {
	on := !quiet && e.stderrTerminal != nil && e.stderrTerminal()
	return &progress{w: e.stderr, size: size, on: on, start: time.Now()}
}

func (p *progress) update(pass, n int, offset int64) {
	if !p.on || n%256 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	what := [...]string{1: "checking", 2: "adding"}[pass]
	frac := min(float64(offset)/float64(max(p.size, 1)), 1)
	const width = 30
	bar := []byte(strings.Repeat(" ", width))
	for i := range int(frac * width) {
		bar[i] = '='
	}
	fmt.Fprintf(p.w, "\r%-8s [%s] %3.0f%% %d entries", what, bar, frac*100, n)
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
