package admin

import (
	"bytes"
	"encoding/hex"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func TestGenerateTokenOID(t *testing.T) {
	if want := "2.25.295583884755326249504665175635765695291.3.1"; GenerateTokenOID != want {
		t.Errorf("GenerateTokenOID = %s, want %s", GenerateTokenOID, want)
	}
}

func TestEncodeGenerateTokenRequest(t *testing.T) {
	const expiry = "2030-01-01T00:00:00Z" // 20 bytes
	tests := []struct {
		name      string
		expiry    string
		readWrite bool
		want      string // hex
	}{
		{"read-only, no expiry", "", false,
			"300a" + "0405" + hex.EncodeToString([]byte("uid=a")) + "0401" + "4c"},
		{"read-write, no expiry", "", true,
			"300d" + "0405" + hex.EncodeToString([]byte("uid=a")) + "0401" + "4c" + "8101ff"},
		{"expiry, read-only", expiry, false,
			"3020" + "0405" + hex.EncodeToString([]byte("uid=a")) + "0401" + "4c" + "8014" + hex.EncodeToString([]byte(expiry))},
		{"expiry, read-write", expiry, true,
			"3023" + "0405" + hex.EncodeToString([]byte("uid=a")) + "0401" + "4c" + "8014" + hex.EncodeToString([]byte(expiry)) + "8101ff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hex.EncodeToString(mustEncode(t, "uid=a", "L", tc.expiry, tc.readWrite).Bytes())
			if got != tc.want {
				t.Errorf("encoding:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The request value go-ldap puts on the wire is [1] OCTET STRING holding
// our SEQUENCE, as RFC 4511 requestValue requires.
func TestGenerateTokenRequestOnTheWire(t *testing.T) {
	seq := mustEncode(t, "uid=demo_service,ou=services,dc=idm,dc=example,dc=com", "Test Token", "", false)
	req := ldap.NewExtendedRequest(GenerateTokenOID, seq)
	if req.Name != GenerateTokenOID {
		t.Fatalf("name = %s", req.Name)
	}
	decoded, err := ber.DecodePacketErr(req.Value.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(decoded.Children) != 2 || decoded.Children[1].Value != "Test Token" {
		t.Errorf("decoded request value: %d children", len(decoded.Children))
	}
}

// responseValue builds the [11] responseValue packet as go-ldap hands it
// over: decoded from the wire, content in Data.
func responseValue(t *testing.T, content []byte) *ber.Packet {
	t.Helper()
	p := ber.Encode(ber.ClassContext, ber.TypePrimitive, 11, nil, "responseValue")
	p.Data.Write(content)
	decoded, err := ber.DecodePacketErr(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return decoded
}

func octets(s string) *ber.Packet {
	return ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "")
}

func seqOf(children ...*ber.Packet) []byte {
	s := ber.NewSequence("")
	for _, c := range children {
		s.AppendChild(c)
	}
	return s.Bytes()
}

func TestDecodeGenerateTokenResponse(t *testing.T) {
	const id = "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"
	t.Run("valid", func(t *testing.T) {
		g, err := decodeGenerateTokenResponse(responseValue(t, seqOf(octets("eyJ.tok.en"), octets(id))))
		if err != nil {
			t.Fatal(err)
		}
		if g.Token != "eyJ.tok.en" || g.ID != id {
			t.Errorf("got %+v", g)
		}
	})
	bad := []struct {
		name    string
		content []byte
		wantErr string
	}{
		{"empty", nil, "no value"},
		{"garbage", []byte{0xff, 0x00, 0x01}, "not a token and a token id"},
		{"one element", seqOf(octets("tok")), "not a token and a token id"},
		{"three elements", seqOf(octets("tok"), octets(id), octets("x")), "not a token and a token id"},
		{"not a sequence", octets("tok").Bytes(), "not a token and a token id"},
		{"integer element", seqOf(octets("tok"), ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "")), "not a token and a token id"},
		{"empty token", seqOf(octets(""), octets(id)), "empty token"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeGenerateTokenResponse(responseValue(t, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("no value", func(t *testing.T) {
		if _, err := decodeGenerateTokenResponse(nil); err == nil {
			t.Error("nil value accepted")
		}
	})
}

// The request encoding is what a decoder on the server side reads back.
func TestGenerateTokenRequestRoundTrip(t *testing.T) {
	b := mustEncode(t, "uid=x,ou=services,dc=a", "label", "2030-01-01T00:00:00+10:00", true).Bytes()
	p, err := ber.DecodePacketErr(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Children) != 4 {
		t.Fatalf("%d children", len(p.Children))
	}
	exp, rw := p.Children[2], p.Children[3]
	if exp.ClassType != ber.ClassContext || exp.Tag != 0 || !bytes.Equal(exp.Data.Bytes(), []byte("2030-01-01T00:00:00+10:00")) {
		t.Errorf("expiry element: class %v tag %v data %q", exp.ClassType, exp.Tag, exp.Data.Bytes())
	}
	if rw.ClassType != ber.ClassContext || rw.Tag != 1 || !bytes.Equal(rw.Data.Bytes(), []byte{0xff}) {
		t.Errorf("readWrite element: class %v tag %v data %x", rw.ClassType, rw.Tag, rw.Data.Bytes())
	}
}

func mustEncode(t *testing.T, account, label, expiry string, readWrite bool) *ber.Packet {
	t.Helper()
	p, err := encodeGenerateTokenRequest(account, label, expiry, readWrite)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The extended operations' OIDs are defined once, in package wire, under
// ldapd's private arc.
func TestOIDsUnderLdapdArc(t *testing.T) {
	if want := directory.LdapdArc + ".3"; wire.LdapdExtendedOps != want {
		t.Errorf("wire.LdapdExtendedOps = %s, want %s", wire.LdapdExtendedOps, want)
	}
}
