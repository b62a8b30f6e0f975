package ldif

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// lineReader is the line-at-a-time reader ldif had before Reader split
// the stream into blocks: the tests hold Reader to its results.
type lineReader struct {
	sc      *bufio.Scanner
	line    int  // lines consumed
	pending bool // sc holds an unconsumed line (lookahead)
	text    string
	started bool
	n       int64 // bytes consumed, for progress
	eof     bool
}

// newLineReader returns a lineReader of r.
func newLineReader(r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	return &lineReader{sc: sc}
}

// Offset returns the number of bytes consumed so far (for progress).
func (r *lineReader) Offset() int64 { return r.n }

// nextLine returns the next physical line without its end of line.
func (r *lineReader) nextLine() (string, bool, error) {
	if r.pending {
		r.pending = false
		return r.text, true, nil
	}
	if r.eof {
		return "", false, nil
	}
	if !r.sc.Scan() {
		r.eof = true
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return "", false, &SyntaxError{Line: r.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
			}
			return "", false, err
		}
		return "", false, nil
	}
	r.line++
	b := r.sc.Bytes()
	r.n += int64(len(b)) + 1
	b = bytes.TrimSuffix(b, []byte("\r"))
	r.text = string(b)
	return r.text, true, nil
}

func (r *lineReader) unread() { r.pending = true }

// logical returns the next unfolded line and the line it starts on; ""
// with ok for a blank line (record separator).
func (r *lineReader) logical() (string, int, bool, error) {
	for {
		l, ok, err := r.nextLine()
		if err != nil || !ok {
			return "", 0, false, err
		}
		if strings.HasPrefix(l, "#") {
			// A comment; its continuations are part of it.
			for {
				c, ok, err := r.nextLine()
				if err != nil {
					return "", 0, false, err
				}
				if !ok {
					break
				}
				if !strings.HasPrefix(c, " ") {
					r.unread()
					break
				}
			}
			continue
		}
		if strings.HasPrefix(l, " ") {
			return "", 0, false, &SyntaxError{Line: r.line, Msg: "continuation line without a line to continue"}
		}
		start := r.line
		if l == "" {
			return "", start, true, nil
		}
		var sb *strings.Builder
		for {
			c, ok, err := r.nextLine()
			if err != nil {
				return "", 0, false, err
			}
			if !ok || !strings.HasPrefix(c, " ") {
				if ok {
					r.unread()
				}
				break
			}
			if sb == nil {
				sb = &strings.Builder{}
				sb.WriteString(l)
			}
			if sb.Len()+len(c) > maxValueBytes {
				return "", 0, false, &SyntaxError{Line: r.line, Msg: "value too long"}
			}
			sb.WriteString(c[1:])
		}
		if sb != nil {
			l = sb.String()
		}
		return l, start, true, nil
	}
}

// Next returns the next record, or io.EOF after the last one. A malformed
// record is a *SyntaxError naming its line.
func (r *lineReader) Next() (*Record, error) {
	var rec *Record
	for {
		l, line, ok, err := r.logical()
		if err != nil {
			return nil, err
		}
		if !ok || l == "" {
			if rec != nil {
				return rec, nil
			}
			if !ok {
				return nil, io.EOF
			}
			continue
		}
		name, value, err := splitLine(l, line)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			if strings.EqualFold(name, "version") && !r.started {
				r.started = true
				if value != "1" {
					return nil, &SyntaxError{Line: line, Msg: "unsupported LDIF version " + value}
				}
				continue
			}
			r.started = true
			if !strings.EqualFold(name, "dn") {
				return nil, &SyntaxError{Line: line, Msg: fmt.Sprintf("record starts with %q, want dn:", name)}
			}
			rec = &Record{Line: line, DN: value}
			continue
		}
		// Compared without a lowercase copy of every attribute name.
		switch {
		case strings.EqualFold(name, "dn"):
			return nil, &SyntaxError{Line: line, Msg: "second dn: in one record (missing blank line?)"}
		case strings.EqualFold(name, "changetype"), strings.EqualFold(name, "control"):
			return nil, &SyntaxError{Line: line, Msg: "change records are not supported; give content records (slapcat output)"}
		}
		if !validName(name) {
			return nil, &SyntaxError{Line: line, Msg: fmt.Sprintf("invalid attribute description %q", name)}
		}
		rec.add(name, value)
	}
}

// FuzzReaderSameAsLineReader: Reader (blocks, parsed separately) reads
// every input as lineReader did: the same records, the same error lines.
func FuzzReaderSameAsLineReader(f *testing.F) {
	for _, s := range []string{
		"version: 1\n\ndn: cn=a,dc=x\ncn: a\n b\nsn:: Yg==\n\n",
		"version: 1\ndn: cn=a\n\n\n# c\n  d\n\ndn: cn=b\r\nx: y\r\n",
		"dn: cn=a\n# c\n  d\nx: y\n",
		"# only\n a comment\n\n",
		"\n\n version: 1\n",
		"version: 2\n\ndn: cn=a\n",
		"version: 1\n\nversion: 1\n\ndn: cn=a\n",
		"dn: cn=a\ncn: x\n\n \ndn: cn=b\n",
		"dn: cn=a\r\r\ncn: x\r\n\r\ndn: cn=b\n#\n\ncn: c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		old, n := newLineReader(strings.NewReader(in)), NewReader(strings.NewReader(in))
		for i := 0; i < 1000; i++ {
			want, werr := old.Next()
			got, gerr := n.Next()
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("record %d of %q: error %v, want %v", i, in, gerr, werr)
			}
			if werr != nil {
				var wse, gse *SyntaxError
				if errors.As(werr, &wse) != errors.As(gerr, &gse) || (wse != nil && *wse != *gse) || errors.Is(werr, io.EOF) != errors.Is(gerr, io.EOF) {
					t.Fatalf("record %d of %q: error %v, want %v", i, in, gerr, werr)
				}
				return
			}
			if got.Line != want.Line || got.DN != want.DN || !equalAttrs(got.Attrs, want.Attrs) {
				t.Fatalf("record %d of %q: %+v, want %+v", i, in, got, want)
			}
		}
	})
}

func equalAttrs(a, b []Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || strings.Join(a[i].Values, "\x00") != strings.Join(b[i].Values, "\x00") || len(a[i].Values) != len(b[i].Values) {
			return false
		}
	}
	return true
}
