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

// MaxRecordBytes bounds the text of one record (a Block).
const MaxRecordBytes = 64 << 20

// Reader reads records from an LDIF stream. It splits the stream into
// blocks, the lines of one record up to the blank line that ends it
// (NextBlock), and parses each (Block.Parse): a caller that wants to can
// parse blocks on other goroutines while it reads the next ones.
type Reader struct {
	br      *bufio.Reader
	line    int   // physical lines consumed
	n       int64 // bytes consumed, for progress
	started bool  // a block with content was returned ("version:" only before it)
	eof     bool
	buf     []byte // the block being read
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Offset returns the number of bytes consumed so far (for progress).
func (r *Reader) Offset() int64 { return r.n }

// Block is the text of one record as NextBlock read it: its lines,
// comments and folds included, without the blank line that ends it.
type Block struct {
	text  string
	line  int // of text's first line
	first bool
	rec   int // line of the record's first content line
}

// Line returns the line the record starts on (its dn: line).
func (b Block) Line() int { return b.rec }

// Parse returns the block's record. A malformed record is a *SyntaxError
// naming its line. Parse is safe to call from any goroutine.
func (b Block) Parse() (*Record, error) {
	rec, err := parseBlock(b.text, b.line, b.first)
	if err == nil && rec == nil {
		return nil, &SyntaxError{Line: b.rec, Msg: "no record"}
	}
	return rec, err
}

// readLine appends the next physical line to r.buf, without its end of
// line (one or two CRs before the LF are dropped), and reports false at
// the end of the stream.
func (r *Reader) readLine() (bool, error) {
	if r.eof {
		return false, nil
	}
	start := len(r.buf)
	for {
		frag, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, frag...)
		if len(r.buf)-start > MaxLineBytes+1 {
			r.eof = true
			return false, &SyntaxError{Line: r.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.eof = true
			return false, err
		}
		if err != nil { // io.EOF
			r.eof = true
			if len(r.buf) == start {
				return false, nil
			}
		}
		break
	}
	r.line++
	r.n += int64(len(r.buf) - start)
	b := r.buf[start:]
	b = bytes.TrimSuffix(b, []byte("\n"))
	for range 2 {
		b = bytes.TrimSuffix(b, []byte("\r"))
	}
	r.buf = r.buf[:start+len(b)]
	return true, nil
}

// NextBlock returns the next record's block, or io.EOF after the last
// one. Comments and blank lines between records are skipped; so is the
// "version: 1" line at the start of the stream.
func (r *Reader) NextBlock() (Block, error) {
	for {
		b, err := r.nextBlock()
		if err != nil {
			return Block{}, err
		}
		if !b.first {
			return b, nil
		}
		// The first block may hold only the version line.
		rec, err := parseBlock(b.text, b.line, true)
		if err == nil && rec == nil {
			continue
		}
		if rec != nil {
			b.rec = rec.Line
		}
		return b, nil
	}
}

func (r *Reader) nextBlock() (Block, error) {
	r.buf = r.buf[:0]
	var b Block
	content, inComment := false, false
	for {
		start := len(r.buf)
		ok, err := r.readLine()
		if err != nil {
			return Block{}, err
		}
		if !ok {
			if !content {
				return Block{}, io.EOF
			}
			break
		}
		l := r.buf[start:]
		if len(l) == 0 {
			if content {
				break
			}
			r.buf, inComment = r.buf[:0], false
			continue
		}
		if start == 0 {
			b.line = r.line
		}
		if len(r.buf) > MaxRecordBytes {
			return Block{}, &SyntaxError{Line: r.line, Msg: fmt.Sprintf("record longer than %d bytes", MaxRecordBytes)}
		}
		r.buf = append(r.buf, '\n')
		switch {
		case l[0] == '#':
			inComment = true
		case l[0] == ' ' && inComment:
		default:
			inComment = false
			if !content {
				content, b.rec = true, r.line
			}
		}
	}
	b.text = string(r.buf)
	b.first = !r.started
	r.started = true
	return b, nil
}

// Next returns the next record, or io.EOF after the last one. A malformed
// record is a *SyntaxError naming its line.
func (r *Reader) Next() (*Record, error) {
	b, err := r.NextBlock()
	if err != nil {
		return nil, err
	}
	return b.Parse()
}

// blockLines yields the logical lines of a block: comments dropped,
// folded lines joined.
type blockLines struct {
	text string
	line int // of the next physical line
}

// physical returns the next physical line of the block.
func (p *blockLines) physical() (string, bool) {
	if p.text == "" {
		return "", false
	}
	i := strings.IndexByte(p.text, '\n')
	l := p.text[:i]
	p.text = p.text[i+1:]
	p.line++
	return l, true
}

// continues reports whether the next physical line is a continuation.
func (p *blockLines) continues() bool { return strings.HasPrefix(p.text, " ") }

// logical returns the next unfolded line and the line it starts on.
func (p *blockLines) logical() (string, int, bool, error) {
	for {
		l, ok := p.physical()
		if !ok {
			return "", 0, false, nil
		}
		if strings.HasPrefix(l, "#") {
			for p.continues() { // a comment's continuations are part of it
				p.physical()
			}
			continue
		}
		if strings.HasPrefix(l, " ") {
			return "", 0, false, &SyntaxError{Line: p.line, Msg: "continuation line without a line to continue"}
		}
		start := p.line
		if !p.continues() {
			return l, start, true, nil
		}
		var sb strings.Builder
		sb.WriteString(l)
		for p.continues() {
			c, _ := p.physical()
			if sb.Len()+len(c) > maxValueBytes {
				return "", 0, false, &SyntaxError{Line: p.line, Msg: "value too long"}
			}
			sb.WriteString(c[1:])
		}
		return sb.String(), start, true, nil
	}
}

// parseBlock parses the text of one block whose first line is line; first
// allows a "version:" line before the record (the stream's first block).
// It returns a nil record for a block with only that line.
func parseBlock(text string, line int, first bool) (*Record, error) {
	p := blockLines{text: text, line: line - 1}
	var rec *Record
	for {
		l, at, ok, err := p.logical()
		if err != nil {
			return nil, err
		}
		if !ok {
			return rec, nil
		}
		name, value, err := splitLine(l, at)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			if first && strings.EqualFold(name, "version") {
				first = false
				if value != "1" {
					return nil, &SyntaxError{Line: at, Msg: "unsupported LDIF version " + value}
				}
				continue
			}
			if !strings.EqualFold(name, "dn") {
				return nil, &SyntaxError{Line: at, Msg: fmt.Sprintf("record starts with %q, want dn:", name)}
			}
			rec = &Record{Line: at, DN: value}
			continue
		}
		// Compared without a lowercase copy of every attribute name.
		switch {
		case strings.EqualFold(name, "dn"):
			return nil, &SyntaxError{Line: at, Msg: "second dn: in one record (missing blank line?)"}
		case strings.EqualFold(name, "changetype"), strings.EqualFold(name, "control"):
			return nil, &SyntaxError{Line: at, Msg: "change records are not supported; give content records (slapcat output)"}
		}
		if !validName(name) {
			return nil, &SyntaxError{Line: at, Msg: fmt.Sprintf("invalid attribute description %q", name)}
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
