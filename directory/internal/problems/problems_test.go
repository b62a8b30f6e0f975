package problems

import (
	"errors"
	"strings"
	"testing"
)

// TestList: no problems is no error; the report wraps the sentinel,
// counts every problem and lists the first Max.
func TestList(t *testing.T) {
	corrupt := errors.New("inconsistent")
	var l List
	if err := l.Err(corrupt, ""); err != nil {
		t.Fatalf("empty list: %v", err)
	}
	l.Problem("entry %d: bad", 1)
	if err := l.Err(corrupt, " at revision 7"); !errors.Is(err, corrupt) ||
		err.Error() != "verify: inconsistent at revision 7: 1 problems:\n\tentry 1: bad" {
		t.Fatalf("one problem: %q", err)
	}
	for i := range Max + 4 {
		l.Problem("entry %d: bad", i+2)
	}
	msg := l.Err(corrupt, "").Error()
	if !strings.HasPrefix(msg, "verify: inconsistent: 25 problems:") || strings.Count(msg, "\n\tentry") != Max ||
		!strings.HasSuffix(msg, "\n\t... and 5 more") {
		t.Fatalf("many problems: %q", msg)
	}
}
