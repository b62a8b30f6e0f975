// Package problems collects what a store's Verify finds: every problem is
// counted, the first Max are kept, and Err reports them as one error.
package problems

import (
	"fmt"
	"strings"
)

// Max bounds the problems a report lists.
const Max = 20

// List is the problems found so far; the zero List is empty. Embed it in
// a verifier to give it Problem.
type List struct {
	kept  []string
	count int
}

// Problem records one problem.
func (l *List) Problem(format string, args ...any) {
	l.count++
	if len(l.kept) < Max {
		l.kept = append(l.kept, fmt.Sprintf(format, args...))
	}
}

// Err returns nil if there are no problems, otherwise
// "verify: <corrupt><at>: N problems:" and the kept problems, one a line,
// wrapping corrupt.
func (l *List) Err(corrupt error, at string) error {
	if l.count == 0 {
		return nil
	}
	more := ""
	if l.count > len(l.kept) {
		more = fmt.Sprintf("\n\t... and %d more", l.count-len(l.kept))
	}
	return fmt.Errorf("verify: %w%s: %d problems:\n\t%s%s", corrupt, at, l.count, strings.Join(l.kept, "\n\t"), more)
}
