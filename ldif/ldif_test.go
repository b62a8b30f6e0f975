package ldif

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readAll(t *testing.T, s string) ([]*Record, error) {
	t.Helper()
	r := NewReader(strings.NewReader(s))
	var out []*Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestReadSlapcat(t *testing.T) {
	in := `version: 1

# a comment
#  continued
dn: dc=example,dc=com
objectClass: top
objectClass: dcObject
dc: example

dn: uid=jo,ou=people,dc=example,dc=com
cn: Jo
  Smith
description:: w6ljb2xl
userPassword: {SSHA}abc=
`
	recs, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if recs[0].Line != 5 || recs[1].Line != 10 {
		t.Errorf("lines %d, %d", recs[0].Line, recs[1].Line)
	}
	if got := recs[0].Get("objectclass"); !reflect.DeepEqual(got, []string{"top", "dcObject"}) {
		t.Errorf("objectClass %q", got)
	}
	if got := recs[1].Get("cn"); !reflect.DeepEqual(got, []string{"Jo Smith"}) {
		t.Errorf("folded cn %q", got)
	}
	if got := recs[1].Get("description"); got[0] != "école" {
		t.Errorf("base64 value %q", got)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"no dn", "cn: x\n", 1},
		{"changetype", "dn: cn=a\nchangetype: add\n", 2},
		{"url", "dn: cn=a\njpegPhoto:< file:///etc/passwd\n", 2},
		{"bad base64", "dn: cn=a\n\ndn: cn=b\ncn:: !!!\n", 4},
		{"no colon", "dn: cn=a\ncn\n", 2},
		{"two dns", "dn: cn=a\ndn: cn=b\n", 2},
		{"stray continuation", " x\n", 1},
		{"version", "version: 2\n", 1},
		{"bad name", "dn: cn=a\nc n: x\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.in)
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tc.line {
				t.Fatalf("err = %v, want a syntax error on line %d", err, tc.line)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	attrs := []Attr{
		{"objectClass", []string{"top", "person"}},
		{"cn", []string{"José", " leading space", "trailing ", ":colon", "<angle", "line\nbreak", strings.Repeat("long", 50)}},
		{"sn", []string{""}},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write("cn=José,dc=example,dc=com", attrs); err != nil {
		t.Fatal(err)
	}
	if err := w.Write("cn=b,dc=example,dc=com", attrs[:1]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if len(l) > 77 {
			t.Fatalf("unfolded line %q", l)
		}
	}
	recs, err := readAll(t, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].DN != "cn=José,dc=example,dc=com" || !reflect.DeepEqual(recs[0].Attrs, attrs) {
		t.Fatalf("round trip:\n%s\n%+v", buf.String(), recs[0])
	}
}

func FuzzReader(f *testing.F) {
	f.Add("version: 1\n\ndn: cn=a,dc=x\ncn: a\n b\nsn:: Yg==\n\n")
	f.Add("dn: cn=a\n# c\n  d\nx: y\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in))
		for i := 0; i < 1000; i++ {
			rec, err := r.Next()
			if err != nil {
				return
			}
			// Whatever was read writes and reads back the same.
			var buf bytes.Buffer
			w := NewWriter(&buf)
			_ = w.Write(rec.DN, rec.Attrs)
			_ = w.Flush()
			back, err := NewReader(&buf).Next()
			if err != nil {
				t.Fatalf("re-read of %+v: %v\n%s", rec, err, buf.String())
			}
			if back.DN != rec.DN || !reflect.DeepEqual(back.Attrs, rec.Attrs) {
				t.Fatalf("round trip %+v -> %+v", rec, back)
			}
		}
	})
}

// TestRecordValues: values group by attribute name (case-insensitive)
// wherever the lines are, more than the first backing array holds, and a
// caller appending to one attribute's values never changes another's.
func TestRecordValues(t *testing.T) {
	var b strings.Builder
	b.WriteString("dn: cn=x,dc=example,dc=com\nobjectClass: top\nOBJECTCLASS: person\ncn: x\nobjectClass: extra\n")
	for i := range 20 {
		b.WriteString("description: d" + string(rune('a'+i)) + "\n")
	}
	b.WriteString("cn: y\n")
	recs, err := readAll(t, b.String())
	if err != nil || len(recs) != 1 {
		t.Fatalf("read: %v, %d records", err, len(recs))
	}
	r := recs[0]
	if got := r.Get("objectclass"); !reflect.DeepEqual(got, []string{"top", "person", "extra"}) {
		t.Errorf("objectClass = %q", got)
	}
	if got := r.Get("cn"); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("cn = %q", got)
	}
	if got := r.Get("description"); len(got) != 20 || got[0] != "da" || got[19] != "dt" {
		t.Errorf("description = %q", got)
	}
	for i := range r.Attrs {
		r.Attrs[i].Values = append(r.Attrs[i].Values, "appended")
	}
	if got := r.Get("cn"); !reflect.DeepEqual(got, []string{"x", "y", "appended"}) {
		t.Errorf("after appends, cn = %q", got)
	}
	if got := r.Get("description"); len(got) != 21 || got[0] != "da" || got[19] != "dt" {
		t.Errorf("after appends, description = %q", got)
	}
}

// TestReadBounds: a physical line over MaxLineBytes, or a record over
// MaxRecordBytes, is a syntax error naming its line, not a growing buffer.
func TestReadBounds(t *testing.T) {
	long := "dn: cn=a\ndescription: " + strings.Repeat("x", MaxLineBytes+10) + "\n"
	_, err := readAll(t, long)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.Contains(se.Msg, "line longer") {
		t.Fatalf("long line: %v", err)
	}
	var b strings.Builder
	b.WriteString("dn: cn=a\n")
	line := "description: " + strings.Repeat("y", 1<<16) + "\n"
	for b.Len() <= MaxRecordBytes {
		b.WriteString(line)
	}
	_, err = readAll(t, b.String())
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "record longer") {
		t.Fatalf("long record: %v", err)
	}
}

// BenchmarkReader reads 1,000 genldif-like people.
func BenchmarkReader(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\n\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "dn: uid=user%d,ou=people,dc=idm,dc=example,dc=com\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\nuid: user%d\ncn: User %d\nsn: %d\nmail: user%d@example.com\nuserPassword: {SSHA}0MGjGSQh7wwTVlirvSO7E6imC/oQbIiaULx5jg==\n\n", i, i, i, i, i)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(strings.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
