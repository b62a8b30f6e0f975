package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParseByteSize parses a size option such as 512MiB, 2GiB, 64M or 1048576
// (KiB, MiB, GiB and TiB, with or without the i and the B, or bytes).
func ParseByteSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiBb")
	unit := strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "i")
	shift, ok := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if !ok || err != nil || n < 0 || n > 1<<(62-shift) {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n << shift, nil
}

// Progress draws a one-line progress bar of a long command (ldapd import)
// on a terminal, at most ten times a second; off, it draws nothing.
type Progress struct {
	w     io.Writer
	size  int64
	on    bool
	last  time.Time
	start time.Time
}

// NewProgress returns a bar for work over size bytes, drawn on w when on
// (w is a terminal and the user did not ask for quiet).
func NewProgress(w io.Writer, size int64, on bool) *Progress {
	return &Progress{w: w, size: size, on: on, start: time.Now()}
}

// Update draws the bar: pass 1 is "checking", pass 2 "adding", n entries
// so far, offset bytes of size done. It draws every 256th entry at most.
func (p *Progress) Update(pass, n int, offset int64) {
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

// Done clears the bar's line, if it drew one.
func (p *Progress) Done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
