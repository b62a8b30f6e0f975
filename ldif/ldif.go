// Package ldif reads and writes LDIF content records (RFC 2849), the format
// of slapcat and slapadd, for ldapd import and export.
//
// # Basics
//
// A Reader returns one Record at a time with the line it starts on, so an
// importer can name the line of a bad record. Values given with "::" are
// base64-decoded; folded lines (continuations starting with one space) are
// joined; comments and the "version: 1" line are skipped.
//
// A Writer writes records in the form slapcat produces: values that are not
// safe strings are base64-encoded, and lines are folded at 76 columns.
//
// # Caveats
//
// Only content records are read: a record with a "changetype:" line, a
// value given by URL (":<"), or an attribute option this package does not
// know is an error, not silently ignored. Attribute descriptions are
// returned as written (case preserved, options such as ";binary" kept).
package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Attr is one attribute of a record, values in file order.
type Attr struct {
	Name   string
	Values []string
}

// Record is one LDIF content record.
type Record struct {
	// Line is the line number (1-based) of the record's dn: line.
	Line  int
	DN    string
	Attrs []Attr
	// vals backs the Values of Attrs, whose capacities end at their
	// lengths (an append by a caller copies, never overwrites a
	// neighbour): one allocation for a record's values, not one per
	// attribute and per growth.
	vals []string
}

// Get returns the values of the attribute named name (case-insensitive).
func (r *Record) Get(name string) []string {
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// add appends a value, grouping repeated attribute names. The values of
// the last attribute, when they end r.vals, grow in place (an
// attribute's lines are usually adjacent).
func (r *Record) add(name, value string) {
	for i := range r.Attrs {
		a := &r.Attrs[i]
		if !strings.EqualFold(a.Name, name) {
			continue
		}
		n := len(a.Values)
		if end := len(r.vals); i == len(r.Attrs)-1 && end < cap(r.vals) && n > 0 && &a.Values[n-1] == &r.vals[end-1] {
			r.vals = append(r.vals, value)
			a.Values = r.vals[end-n : end+1 : end+1]
			return
		}
		a.Values = append(a.Values, value)
		return
	}
	if len(r.vals) == cap(r.vals) {
		r.vals = make([]string, 0, max(16, 2*cap(r.vals)))
	}
	r.vals = append(r.vals, value)
	if r.Attrs == nil {
		r.Attrs = make([]Attr, 0, 8)
	}
	end := len(r.vals)
	r.Attrs = append(r.Attrs, Attr{Name: name, Values: r.vals[end-1 : end : end]})
}

// SyntaxError is a malformed record; Line is where the problem is.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// MaxLineBytes bounds one physical line (and so one unfolded value grows
// only by continuation lines, each bounded too).
const MaxLineBytes = 1 << 20

// maxValueBytes bounds one unfolded attribute line.
const maxValueBytes = 16 << 20

// Reader reads records from an LDIF stream.
type Reader struct {
	sc      *bufio.Scanner
	line    int  // lines consumed
	pending bool // sc holds an unconsumed line (lookahead)
	text    string
	started bool
	n       int64 // bytes consumed, for progress
	eof     bool
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	return &Reader{sc: sc}
}

// Offset returns the number of bytes consumed so far (for progress).
func (r *Reader) Offset() int64 { return r.n }

// nextLine returns the next physical line without its end of line.
func (r *Reader) nextLine() (string, bool, error) {
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

func (r *Reader) unread() { r.pending = true }

// logical returns the next unfolded line and the line it starts on; ""
// with ok for a blank line (record separator).
func (r *Reader) logical() (string, int, bool, error) {
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
func (r *Reader) Next() (*Record, error) {
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

// splitLine parses "name: value", "name:: base64" and refuses "name:< url".
func splitLine(l string, line int) (name, value string, err error) {
	i := strings.IndexByte(l, ':')
	if i <= 0 {
		return "", "", &SyntaxError{Line: line, Msg: "missing \":\" after the attribute name"}
	}
	name, rest := l[:i], l[i+1:]
	switch {
	case strings.HasPrefix(rest, ":"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", "", &SyntaxError{Line: line, Msg: "bad base64 value of " + name}
		}
		return name, string(raw), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", &SyntaxError{Line: line, Msg: "values given by URL (:<) are not supported"}
	}
	return name, strings.TrimLeft(rest, " "), nil
}

// validName accepts an attribute description: a name or OID with options.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';') {
			return false
		}
	}
	return true
}

// Writer writes records.
type Writer struct {
	w       *bufio.Writer
	started bool
}

// NewWriter returns a Writer to w; call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 64<<10)} }

// Write writes one record.
func (w *Writer) Write(dn string, attrs []Attr) error {
	if !w.started {
		w.started = true
		w.w.WriteString("version: 1\n\n")
	}
	w.line("dn", dn)
	for _, a := range attrs {
		for _, v := range a.Values {
			w.line(a.Name, v)
		}
	}
	return w.w.WriteByte('\n')
}

// Flush writes buffered data.
func (w *Writer) Flush() error { return w.w.Flush() }

func (w *Writer) line(name, value string) {
	var l string
	if SafeString(value) {
		l = name + ": " + value
	} else {
		l = name + ":: " + base64.StdEncoding.EncodeToString([]byte(value))
	}
	const width = 76
	for len(l) > width {
		w.w.WriteString(l[:width])
		w.w.WriteString("\n ")
		l = l[width:]
	}
	w.w.WriteString(l)
	w.w.WriteByte('\n')
}

// SafeString reports whether v may be written as a plain LDIF value
// (RFC 2849 SAFE-STRING): ASCII without NUL, CR or LF, not starting with
// a space, colon or "<", and not ending with a space.
func SafeString(v string) bool {
	if v == "" {
		return true
	}
	if c := v[0]; c == ' ' || c == ':' || c == '<' {
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}
