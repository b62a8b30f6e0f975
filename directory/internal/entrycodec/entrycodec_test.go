package entrycodec

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func TestEncodeRoundTrip(t *testing.T) {
	for _, e := range []*directory.Entry{
		directory.NewEntry(directory.MustParseDN("dc=com")),
		{DN: directory.MustParseDN(`cn=a\,b+sn=x\00y,OU=People,dc=example,dc=com`), Attrs: []directory.Attr{
			{Name: "cn", Values: []string{"a,b", ""}}, {Name: "jpegPhoto", Values: []string{"\x00\xff\x01"}},
			{Name: "x-empty"},
		}},
	} {
		got, err := Decode(Encode(e))
		if err != nil {
			t.Fatal(err)
		}
		if got.DN.String() != e.DN.String() || got.DN.Norm() != e.DN.Norm() {
			t.Fatalf("DN %q (%q) decoded as %q (%q)", e.DN, e.DN.Norm(), got.DN, got.DN.Norm())
		}
		if len(got.Attrs) != len(e.Attrs) {
			t.Fatalf("attributes %v decoded as %v", e.Attrs, got.Attrs)
		}
		for i, a := range e.Attrs {
			g := got.Attrs[i]
			if g.Name != a.Name || len(g.Values) != len(a.Values) {
				t.Fatalf("attribute %v decoded as %v", a, g)
			}
			for j := range a.Values {
				if g.Values[j] != a.Values[j] {
					t.Fatalf("attribute %v decoded as %v", a, g)
				}
			}
		}
		// Appending to one attribute's values must not clobber the next.
		if len(got.Attrs) > 1 {
			got.Attrs[0].Values = append(got.Attrs[0].Values, "more")
			if got.Attrs[1].Values[0] != e.Attrs[1].Values[0] {
				t.Fatal("values share a backing array without a capacity limit")
			}
		}
	}
}

// FuzzDecodeEntry: decoding arbitrary bytes never panics, and whatever
// decodes re-encodes to something that decodes to the same DN.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(Encode(&directory.Entry{DN: directory.MustParseDN("uid=a,dc=b"),
		Attrs: []directory.Attr{{Name: "uid", Values: []string{"a"}}}}))
	f.Add(Encode(benchEntry()))
	f.Add(Encode(&directory.Entry{DN: directory.MustParseDN("cn=long,dc=b"), // lengths of two bytes
		Attrs: []directory.Attr{{Name: "description", Values: []string{strings.Repeat("x", 300), ""}}, {Name: strings.Repeat("a", 130)}}}))
	f.Add([]byte{Format})
	f.Add([]byte{Format, 0, 0})
	f.Add([]byte{Format, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Decoding a few attributes (skipping the others) keeps exactly
		// those, up to the first attribute that completes the set kept;
		// it fails when decoding them all does, unless it stopped before
		// the failure.
		all, _, errAll := DecodeAttrs(b)
		var part directory.Entry
		// Keep the attributes named cn or objectclass, in any case.
		keep := []string{"cn", "objectClass"}
		_, _, errPart := DecodeAttrsInto(string(b), &part, nil, keep)
		hasBoth := func(attrs []directory.Attr) bool {
			return slices.ContainsFunc(attrs, func(a directory.Attr) bool { return strings.EqualFold(a.Name, "cn") }) &&
				slices.ContainsFunc(attrs, func(a directory.Attr) bool { return strings.EqualFold(a.Name, "objectclass") })
		}
		if errAll == nil && errPart != nil {
			t.Fatalf("DecodeAttrs fine, DecodeAttrsInto with keep error %v", errPart)
		}
		if errAll != nil && errPart == nil && !hasBoth(part.Attrs) {
			t.Fatalf("DecodeAttrs error %v, DecodeAttrsInto with keep fine without stopping early", errAll)
		}
		if errAll == nil {
			var want []directory.Attr
			for _, a := range all.Attrs {
				if !hasBoth(want) && (strings.EqualFold(a.Name, "cn") || strings.EqualFold(a.Name, "objectclass")) {
					want = append(want, a)
				}
			}
			if len(want) != len(part.Attrs) {
				t.Fatalf("kept %d attributes, want %d", len(part.Attrs), len(want))
			}
			for i := range want {
				if want[i].Name != part.Attrs[i].Name || !slices.Equal(want[i].Values, part.Attrs[i].Values) {
					t.Fatalf("attribute %d: %v, want %v", i, part.Attrs[i], want[i])
				}
			}
		}
		// The fast path decodes exactly what the checked one does, and
		// gives up exactly where that one fails.
		for _, k := range [][]string{nil, keep, {}} {
			var fast, checked directory.Entry
			if len(b) == 0 || b[0] != Format {
				break
			}
			dnF, _, ok := decodeAttrsFast(string(b), &fast, nil, k)
			dnC, _, err := decodeAttrsChecked(string(b), &checked, nil, k)
			if ok != (err == nil) {
				t.Fatalf("fast path ok=%v, checked error %v", ok, err)
			}
			if ok && (dnF != dnC || !slices.EqualFunc(fast.Attrs, checked.Attrs, func(x, y directory.Attr) bool {
				return x.Name == y.Name && slices.Equal(x.Values, y.Values)
			})) {
				t.Fatalf("fast path decoded %q %v, checked %q %v", dnF, fast.Attrs, dnC, checked.Attrs)
			}
		}
		e, err := Decode(b)
		if err != nil {
			return
		}
		enc := Encode(e)
		if len(enc) != Size(e) || cap(enc) != len(enc) || string(AppendEncode([]byte("pre"), e)) != "pre"+string(enc) {
			t.Fatalf("Encode gave %d bytes (cap %d), Size %d, or AppendEncode differs", len(enc), cap(enc), Size(e))
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding failed to decode: %v", err)
		}
		if again.DN.Norm() != e.DN.Norm() || len(again.Attrs) != len(e.Attrs) {
			t.Fatalf("round trip changed %v to %v", e, again)
		}
	})
}

// TestSizeIsExact: Size is the length of Encode's result, which has no
// spare capacity, with lengths of one, two and three uvarint bytes; and
// AppendEncode appends the same bytes.
func TestSizeIsExact(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, 70000} {
		e := &directory.Entry{DN: directory.MustParseDN("cn=" + strings.Repeat("y", n%1000+1) + ",dc=example,dc=com"),
			Attrs: []directory.Attr{{Name: "description", Values: []string{strings.Repeat("x", n)}}, {Name: strings.Repeat("a", n%200+1)}}}
		for range n % 150 {
			e.Attrs[0].Values = append(e.Attrs[0].Values, "v")
		}
		enc := Encode(e)
		if len(enc) != Size(e) || cap(enc) != len(enc) {
			t.Fatalf("n=%d: %d bytes (cap %d), Size %d", n, len(enc), cap(enc), Size(e))
		}
		if got := AppendEncode([]byte{7}, e); string(got) != "\x07"+string(enc) {
			t.Fatalf("n=%d: AppendEncode differs from Encode", n)
		}
		back, err := Decode(enc)
		if err != nil || back.DN.Norm() != e.DN.Norm() || len(back.Attrs[0].Values) != len(e.Attrs[0].Values) {
			t.Fatalf("n=%d: decoded %v, %v", n, back, err)
		}
	}
}

func TestDNSectionIs(t *testing.T) {
	stored := directory.MustParseDN("uid=Jo+cn=J\\,o,ou=People,dc=example")
	sec := EncodeDN(stored)
	for _, tc := range []struct {
		dn   string
		want bool
	}{
		{"uid=Jo+cn=J\\,o,ou=People,dc=example", true},
		{"UID=Jo+cn=J\\,o,ou=People,dc=example", true},  // types are canonical after parsing
		{"uid=jo+cn=J\\,o,ou=People,dc=example", false}, // equal DN, other spelling: decode the stored one
		{"uid=Jo+cn=J\\,o,ou=People", false},
		{"uid=Jo,ou=People,dc=example", false},
		{"", false},
	} {
		if got := DNSectionIs(sec, directory.MustParseDN(tc.dn)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.dn, got, tc.want)
		}
	}
	if testing.AllocsPerRun(100, func() { DNSectionIs(sec, stored) }) != 0 {
		t.Error("DNSectionIs allocates")
	}
}

// TestDecodeDNCached: decoding through a memo gives exactly what DecodeDN
// gives, whatever came before (siblings, other parents, other depths).
func TestDecodeDNCached(t *testing.T) {
	dns := []string{
		"uid=a,ou=people,dc=example,dc=com", "uid=b,ou=people,dc=example,dc=com", "uid=B,ou=People,dc=example,dc=com",
		"cn=g,ou=groups,dc=example,dc=com", "uid=c,ou=people,dc=example,dc=com", "cn=x+sn=y,ou=people,dc=example,dc=com",
		"uid=d,ou=people,dc=example,dc=com", "dc=com", "uid=e,dc=example,dc=com", "ou=people,dc=example,dc=com",
		`uid=a\,b,ou=people,dc=example,dc=com`, "ldapdTokenId=1,uid=svc,ou=services,dc=example,dc=com",
		"uid=a,ou=people,dc=example,dc=org",
	}
	var m ParentCache
	for range 2 {
		for _, s := range dns {
			sec := EncodeDN(directory.MustParseDN(s))
			want, err := DecodeDN(sec)
			if err != nil {
				t.Fatal(err)
			}
			checkMemoDN(t, sec, &m, want)
		}
	}
}

func checkMemoDN(t *testing.T, sec string, m *ParentCache, want directory.DN) {
	t.Helper()
	got, err := DecodeDNCached(sec, m)
	if err != nil {
		t.Fatalf("%q: %v", sec, err)
	}
	if got.Norm() != want.Norm() || got.String() != want.String() || got.Depth() != want.Depth() {
		t.Fatalf("memo decoded %q (%q), want %q (%q)", got, got.Norm(), want, want.Norm())
	}
	for i, r := range got.RDNs() {
		if r.Norm() != want.RDNs()[i].Norm() || r.String() != want.RDNs()[i].String() {
			t.Fatalf("RDN %d: %q, want %q", i, r, want.RDNs()[i])
		}
	}
}

// FuzzDecodeDNCached: two DN sections decoded in turn through one memo
// decode as DecodeDN does (same error or same DN).
func FuzzDecodeDNCached(f *testing.F) {
	enc := func(s string) string { return EncodeDN(directory.MustParseDN(s)) }
	f.Add(enc("uid=a,ou=p,dc=x"), enc("uid=b,ou=p,dc=x"))
	f.Add(enc("uid=a,ou=p,dc=x"), enc("uid=b,ou=q,dc=x"))
	f.Add(enc("cn=a+sn=b,ou=p,dc=x"), enc("uid=b,ou=p,dc=x"))
	f.Add(enc("dc=x"), "\x00")
	f.Fuzz(func(t *testing.T, a, b string) {
		var m ParentCache
		for _, s := range []string{a, b, a} {
			want, werr := DecodeDN(s)
			got, gerr := DecodeDNCached(s, &m)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%q: DecodeDN error %v, memo error %v", s, werr, gerr)
			}
			if werr == nil && (got.Norm() != want.Norm() || got.String() != want.String()) {
				t.Fatalf("%q: memo %q, want %q", s, got, want)
			}
		}
	})
}

// TestDecodeKeepStopsEarly: with keep, decoding stops once every kept
// name is found (so a corrupt tail after them goes unread), for up to 63
// names; with more it reads the whole entry and reports the tail.
func TestDecodeKeepStopsEarly(t *testing.T) {
	e := &directory.Entry{DN: directory.MustParseDN("cn=x,dc=b")}
	var names []string
	for i := range 70 {
		names = append(names, fmt.Sprintf("n%d", i))
		e.Attrs = append(e.Attrs, directory.Attr{Name: names[i], Values: []string{"v"}})
	}
	corrupt := string(append(Encode(e), 0xff)) // a trailing byte
	for _, tc := range []struct {
		keep  []string
		stops bool
	}{
		{[]string{"n2", "N0"}, true},
		{names[:63], true},
		{names[:64], false},
		{[]string{"n1", "absent"}, false},
	} {
		var got directory.Entry
		_, _, err := DecodeAttrsInto(corrupt, &got, nil, tc.keep)
		if (err == nil) != tc.stops {
			t.Errorf("keep of %d names: error %v, want it to stop early %v", len(tc.keep), err, tc.stops)
		}
		if tc.stops && len(got.Attrs) != len(tc.keep) {
			t.Errorf("keep of %d names: %d attributes decoded", len(tc.keep), len(got.Attrs))
		}
	}
}
