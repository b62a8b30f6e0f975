package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// fuzzSeeds are hand-built requests covering every operation; the corpus
// in testdata/fuzz/FuzzDecode adds the packets go-ldap sent in the
// differential tests.
func fuzzSeeds(tb testing.TB) [][]byte {
	return [][]byte{
		msg(1, tlv(0x60, integer(3), ostr("cn=admin,dc=example,dc=com"), prim(0x80, "secret"))),
		msg(2, tlv(0x60, integer(3), ostr(""), tlv(0xa3, ostr("PLAIN"), ostr("\x00u\x00p")))),
		msg(3, []byte{0x42, 0x00}),
		msg(4, searchOp(and(eq("objectClass", "person"), or(present("mail"), not(eq("cn", "x"))),
			tlv(0xa4, ostr("cn"), seq(prim(0x80, "a"), prim(0x81, "b"), prim(0x82, "c"))),
			tlv(0xa9, prim(0x81, "2.5.13.5"), prim(0x82, "cn"), prim(0x83, "X"), []byte{0x84, 0x01, 0xff})), "cn", "mail"),
			controls(control(PagedResultsOID, true, seq(integer(50), ostr("cookie"))))),
		msg(5, tlv(0x66, ostr("uid=jdoe"), seq(seq(enum(0), seq(ostr("mail"), set(ostr("a@b")))), seq(enum(1), seq(ostr("d"), set()))))),
		msg(6, tlv(0x68, ostr("uid=new"), seq(seq(ostr("objectClass"), set(ostr("top"), ostr("person")))))),
		msg(7, prim(0x4a, "uid=old")),
		msg(8, tlv(0x6c, ostr("uid=a"), ostr("uid=b"), boolean(true), prim(0x80, "ou=y"))),
		msg(9, tlv(0x6e, ostr("uid=a"), seq(ostr("cn"), ostr("A")))),
		msg(10, intTLV(0x50, 3)),
		msg(11, tlv(0x77, prim(0x80, PasswordModifyOID), tlv(0x81, seq(prim(0x80, "u"), prim(0x82, "new"))))),
		benchSearchPacket(tb),
	}
}

// checkFilter asserts the structural guarantees documented on Filter.
func checkFilter(t *testing.T, f *Filter) {
	t.Helper()
	if f == nil {
		t.Fatal("nil filter")
	}
	switch f.Kind {
	case FilterAnd, FilterOr:
	case FilterNot:
		if len(f.Children) != 1 {
			t.Fatalf("not with %d children", len(f.Children))
		}
	case FilterSubstrings:
		if !f.HasInitial && !f.HasFinal && len(f.Any) == 0 {
			t.Fatal("substrings without components")
		}
		fallthrough
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox, FilterPresent:
		if f.Attr == "" {
			t.Fatalf("%s with empty attribute", f.Kind)
		}
	case FilterExtensible:
		if f.Attr == "" && f.MatchingRule == "" {
			t.Fatal("extensible match without type or rule")
		}
	default:
		t.Fatalf("unknown kind %d", f.Kind)
	}
	for _, c := range f.Children {
		checkFilter(t, c)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	small := Limits{MaxFilterDepth: 4, MaxFilterNodes: 16, MaxAttributes: 4, MaxValues: 8, MaxControls: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, small} {
			in := bytes.Clone(data)
			m1, err1 := Decode(in, lim)
			// Decode must not retain its input, and must be deterministic.
			for i := range in {
				in[i] ^= 0xff
			}
			m2, err2 := Decode(data, lim)
			if !reflect.DeepEqual(m1, m2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("two decodes differ:\n%s %v\n%s %v", show(m1), err1, show(m2), err2)
			}
			if err1 != nil {
				if !errors.Is(err1, ErrMalformed) && !errors.Is(err1, ErrLimitExceeded) {
					t.Fatalf("error %v wraps no sentinel", err1)
				}
				if m1 != nil {
					t.Fatal("message returned with an error")
				}
				continue
			}
			if m1.Op == nil || m1.ID < 0 {
				t.Fatalf("bad message %s", show(m1))
			}
			if s, ok := m1.Op.(*SearchRequest); ok {
				checkFilter(t, s.Filter)
			}
		}
	})
}

func FuzzReadPacket(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
		f.Add(append(bytes.Clone(s), s...))
	}
	f.Add([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	const maxSize = 512
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		consumed := 0
		var buf []byte
		for {
			var err error
			buf, err = AppendPacket(buf[:0], r, maxSize)
			if err != nil {
				if err == io.EOF && consumed != len(data) {
					t.Fatalf("io.EOF after %d of %d octets", consumed, len(data))
				}
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMessageTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(buf) > maxSize || len(buf) < 2 || buf[0] != 0x30 {
				t.Fatalf("bad packet % x", buf)
			}
			if !bytes.Equal(buf, data[consumed:consumed+len(buf)]) {
				t.Fatal("packet is not the next octets of the stream")
			}
			consumed += len(buf)
			// The framing agrees with the decoder's TLV reader.
			c := newCursor(buf)
			if _, err := c.next(); err != nil || !c.empty() {
				t.Fatalf("framed packet % x is not one TLV: %v", buf, err)
			}
		}
	})
}

func FuzzDecodePagedResults(f *testing.F) {
	f.Add(seq(integer(100), ostr("")))
	f.Add(seq(integer(0), ostr("cookie")))
	f.Add(seq(integer(5), ostr("c"), prim(0x80, "x")))
	f.Fuzz(func(t *testing.T, data []byte) {
		size, cookie, err := DecodePagedResults(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if size < 0 {
			t.Fatalf("negative size %d", size)
		}
		size2, cookie2, err := DecodePagedResults(AppendPagedResults(nil, size, cookie))
		if err != nil || size2 != size || !bytes.Equal(cookie2, cookie) {
			t.Fatalf("re-encoding %d %q decodes as %d %q %v", size, cookie, size2, cookie2, err)
		}
	})
}

func FuzzDecodePasswordModify(f *testing.F) {
	f.Add([]byte{})
	f.Add(seq())
	f.Add(seq(prim(0x80, "uid=a"), prim(0x81, "old"), prim(0x82, "new")))
	f.Add(seq(prim(0x82, "new")))
	f.Fuzz(func(t *testing.T, data []byte) {
		p1, err1 := DecodePasswordModify(data)
		p2, err2 := DecodePasswordModify(data)
		if !reflect.DeepEqual(p1, p2) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("two decodes differ: %+v %v / %+v %v", p1, err1, p2, err2)
		}
		if err1 != nil && !errors.Is(err1, ErrMalformed) {
			t.Fatalf("error %v wraps no sentinel", err1)
		}
		if !p1.HasUserIdentity && p1.UserIdentity != "" || !p1.HasOldPassword && p1.OldPassword != nil || !p1.HasNewPassword && p1.NewPassword != nil {
			t.Fatalf("field set without its Has flag: %+v", p1)
		}
	})
}

func FuzzDecodeGenerateToken(f *testing.F) {
	f.Add(AppendGenerateToken(nil, GenerateToken{Account: "uid=svc", Label: "l"}))
	f.Add(AppendGenerateToken(nil, GenerateToken{Account: "uid=svc", Label: "l", Expiry: "2030-01-01T00:00:00Z", HasExpiry: true, ReadWrite: true}))
	f.Add(seq(ostr("uid=svc"), ostr("l"), []byte{0x81, 0x01, 0x01}))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := DecodeGenerateToken(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		g2, err := DecodeGenerateToken(AppendGenerateToken(nil, g))
		if err != nil || g2 != g {
			t.Fatalf("re-encoding %+v decodes as %+v, %v", g, g2, err)
		}
	})
}

func FuzzDecodeGenerateTokenResponse(f *testing.F) {
	f.Add(AppendGenerateTokenResponse(nil, "eyJ.a.b", "4de2a4e9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		token, id, err := DecodeGenerateTokenResponse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		t2, id2, err := DecodeGenerateTokenResponse(AppendGenerateTokenResponse(nil, token, id))
		if err != nil || t2 != token || id2 != id {
			t.Fatalf("re-encoding %q %q decodes as %q %q, %v", token, id, t2, id2, err)
		}
	})
}
