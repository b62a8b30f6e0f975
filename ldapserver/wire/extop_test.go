package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func TestDecodePagedResults(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		size   int
		cookie string
		ok     bool
	}{
		{name: "first page", in: seq(integer(100), ostr("")), size: 100, ok: true},
		{name: "with cookie", in: seq(integer(0), ostr("\x00\x01opaque")), cookie: "\x00\x01opaque", ok: true},
		{name: "max size", in: seq(integer(maxInt), ostr("c")), size: maxInt, cookie: "c", ok: true},
		{name: "trailing extension ignored", in: seq(integer(5), ostr("c"), prim(0x80, "x")), size: 5, cookie: "c", ok: true},
		{name: "empty", in: nil},
		{name: "negative size", in: seq(integer(-1), ostr(""))},
		{name: "five-octet size", in: seq(tlv(0x02, []byte{0, 0x80, 0, 0, 0}), ostr(""))},
		{name: "missing cookie", in: seq(integer(5))},
		{name: "cookie as integer", in: seq(integer(5), integer(5))},
		{name: "not a SEQUENCE", in: set(integer(5), ostr(""))},
		{name: "bytes after the SEQUENCE", in: append(seq(integer(5), ostr("")), 0)},
		{name: "truncated", in: seq(integer(5), ostr("cookie"))[:6]},
		{name: "trailing garbage", in: seq(integer(5), ostr(""), []byte{0x04})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size, cookie, err := DecodePagedResults(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %d %q %v, want ErrMalformed", size, cookie, err)
				}
				return
			}
			if err != nil || size != tc.size || string(cookie) != tc.cookie {
				t.Fatalf("got %d %q %v, want %d %q", size, cookie, err, tc.size, tc.cookie)
			}
		})
	}
}

func TestPagedResultsAgainstGoLDAP(t *testing.T) {
	for _, tc := range []struct {
		size   uint32
		cookie []byte
	}{{0, nil}, {500, []byte("next")}, {1<<31 - 1, bytes.Repeat([]byte{0xab}, 300)}} {
		// go-ldap's request control value decodes with ours.
		ref := ldap.NewControlPaging(tc.size)
		ref.SetCookie(tc.cookie)
		enc, err := ber.DecodePacketErr(ref.Encode().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		value := enc.Children[1].Data.Bytes()
		size, cookie, err := DecodePagedResults(value)
		if err != nil || size != int(tc.size) || !bytes.Equal(cookie, tc.cookie) {
			t.Errorf("go-ldap value for %d %q decoded as %d %q %v", tc.size, tc.cookie, size, cookie, err)
		}
		// Our value decodes with go-ldap's control decoder.
		ctl := seq(ostr(PagedResultsOID), tlv(0x04, AppendPagedResults(nil, int(tc.size), tc.cookie)))
		p, err := ber.DecodePacketErr(ctl)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := ldap.DecodeControl(p)
		if err != nil {
			t.Fatalf("go-ldap DecodeControl: %v", err)
		}
		if pc, ok := dc.(*ldap.ControlPaging); !ok || pc.PagingSize != tc.size || !bytes.Equal(pc.Cookie, tc.cookie) {
			t.Errorf("go-ldap decoded our value as %v", dc)
		}
	}
}

func TestDecodePasswordModify(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want PasswordModify
		ok   bool
	}{
		{name: "absent value", in: nil, ok: true},
		{name: "empty SEQUENCE", in: seq(), ok: true},
		{name: "all fields", in: seq(prim(0x80, "uid=a"), prim(0x81, "old"), prim(0x82, "new")), ok: true,
			want: PasswordModify{UserIdentity: "uid=a", HasUserIdentity: true, OldPassword: []byte("old"), HasOldPassword: true, NewPassword: []byte("new"), HasNewPassword: true}},
		{name: "new only", in: seq(prim(0x82, "new")), ok: true,
			want: PasswordModify{NewPassword: []byte("new"), HasNewPassword: true}},
		{name: "empty old password is present", in: seq(prim(0x81, "")), ok: true,
			want: PasswordModify{OldPassword: []byte{}, HasOldPassword: true}},
		{name: "trailing extension ignored", in: seq(prim(0x80, "u"), prim(0x85, "x")), ok: true,
			want: PasswordModify{UserIdentity: "u", HasUserIdentity: true}},
		{name: "out of order", in: seq(prim(0x82, "new"), prim(0x80, "uid=a"))},
		{name: "duplicate", in: seq(prim(0x81, "a"), prim(0x81, "b"))},
		{name: "constructed field", in: seq(tlv(0xa1, ostr("old")))},
		{name: "universal field", in: seq(ostr("uid=a"))},
		{name: "not a SEQUENCE", in: prim(0x80, "uid=a")},
		{name: "bytes after", in: append(seq(), 0)},
		{name: "truncated", in: seq(prim(0x80, "uid=a"))[:4]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodePasswordModify(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %+v, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestAppendPasswordModifyResponse(t *testing.T) {
	p := parse(t, AppendPasswordModifyResponse(nil, []byte("gen")))
	checkTLV(t, p, 0x30, "PasswdModifyResponseValue")
	c := children(t, p, 1, "PasswdModifyResponseValue")[0]
	checkTLV(t, c, 0x80, "genPasswd")
	if c.Data.String() != "gen" {
		t.Errorf("genPasswd %q", c.Data.String())
	}
	if b := AppendPasswordModifyResponse(nil, nil); !bytes.Equal(b, []byte{0x30, 0x00}) {
		t.Errorf("without genPasswd: % x", b)
	}
}

func TestGenerateTokenRoundTrip(t *testing.T) {
	for _, g := range []GenerateToken{
		{Account: "uid=svc,dc=example,dc=com", Label: "Test Token"},
		{Account: "uid=svc,dc=example,dc=com", Label: "rw", ReadWrite: true},
		{Account: "uid=svc,dc=example,dc=com", Label: "", Expiry: "2030-01-02T03:04:05Z", HasExpiry: true},
		{Account: "uid=svc,dc=example,dc=com", Label: "all", Expiry: "2030-01-02T03:04:05+10:00", HasExpiry: true, ReadWrite: true},
	} {
		b := AppendGenerateToken(nil, g)
		got, err := DecodeGenerateToken(b)
		if err != nil || got != g {
			t.Errorf("round trip of %+v: %+v, %v", g, got, err)
		}
		// go-asn1-ber agrees on the structure.
		p := parse(t, b)
		n := 2
		if g.HasExpiry {
			n++
		}
		if g.ReadWrite {
			n++
		}
		c := children(t, p, n, "GenerateTokenRequestValue")
		if c[0].Data.String() != g.Account || c[1].Data.String() != g.Label {
			t.Errorf("go-asn1-ber reads account %q label %q", c[0].Data.String(), c[1].Data.String())
		}
	}
}

func TestDecodeGenerateToken(t *testing.T) {
	acct, label := ostr("uid=svc"), ostr("l")
	tests := []struct {
		name string
		in   []byte
		want GenerateToken
		ok   bool
	}{
		{name: "readWrite as 0x01", in: seq(acct, label, []byte{0x81, 0x01, 0x01}), ok: true,
			want: GenerateToken{Account: "uid=svc", Label: "l", ReadWrite: true}},
		{name: "explicit FALSE", in: seq(acct, label, []byte{0x81, 0x01, 0x00}), ok: true,
			want: GenerateToken{Account: "uid=svc", Label: "l"}},
		{name: "trailing extension ignored", in: seq(acct, label, prim(0x82, "future")), ok: true,
			want: GenerateToken{Account: "uid=svc", Label: "l"}},
		{name: "missing label", in: seq(acct)},
		{name: "missing account", in: seq()},
		{name: "fields out of order", in: seq(acct, label, []byte{0x81, 0x01, 0xff}, prim(0x80, "2030-01-01T00:00:00Z"))},
		{name: "duplicate expiry", in: seq(acct, label, prim(0x80, "a"), prim(0x80, "b"))},
		{name: "constructed expiry", in: seq(acct, label, tlv(0xa0, ostr("2030")))},
		{name: "bad boolean", in: seq(acct, label, prim(0x81, ""))},
		{name: "account as integer", in: seq(integer(1), label)},
		{name: "empty", in: nil},
		{name: "indefinite length", in: []byte{0x30, 0x80, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeGenerateToken(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %+v, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestGenerateTokenResponse(t *testing.T) {
	b := AppendGenerateTokenResponse(nil, "eyJ.a.b", "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7")
	token, id, err := DecodeGenerateTokenResponse(b)
	if err != nil || token != "eyJ.a.b" || id != "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7" {
		t.Fatalf("round trip: %q %q %v", token, id, err)
	}
	for name, in := range map[string][]byte{
		"missing id":  seq(ostr("t")),
		"id as [0]":   seq(ostr("t"), prim(0x80, "i")),
		"empty":       nil,
		"bytes after": append(seq(ostr("t"), ostr("i")), 0),
	} {
		if _, _, err := DecodeGenerateTokenResponse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", name, err)
		}
	}
}

// TestValueDecodersCopyStrings checks the rule in the package Caveats: the
// strings a value decoder returns do not alias its input.
func TestValueDecodersCopyStrings(t *testing.T) {
	in := AppendGenerateToken(nil, GenerateToken{Account: "uid=svc", Label: "label"})
	g, err := DecodeGenerateToken(in)
	if err != nil {
		t.Fatal(err)
	}
	clear(in)
	if g.Account != "uid=svc" || g.Label != "label" {
		t.Errorf("strings changed with the input: %+v", g)
	}
}
