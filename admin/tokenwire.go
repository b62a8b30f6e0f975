package admin

import (
	"errors"
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/ldapd/ldapd/directory"
)

// GenerateTokenOID names ldapd's "generate API token" extended operation.
//
//	GenerateTokenRequestValue ::= SEQUENCE {
//	    account    OCTET STRING,                  -- DN of the service account
//	    label      OCTET STRING,
//	    expiry     [0] IMPLICIT OCTET STRING OPTIONAL,  -- RFC 3339, as typed
//	    readWrite  [1] IMPLICIT BOOLEAN DEFAULT FALSE }
//
//	GenerateTokenResponseValue ::= SEQUENCE {
//	    token      OCTET STRING,                  -- the secret, shown once
//	    tokenID    OCTET STRING }
const GenerateTokenOID = directory.LdapdArc + ".3.1"

// encodeGenerateTokenRequest builds the request value. readWrite is
// encoded only when true (DER omits a DEFAULT value), expiry only when not
// empty.
func encodeGenerateTokenRequest(accountDN, label, expiry string, readWrite bool) *ber.Packet {
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "GenerateTokenRequestValue")
	seq.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, accountDN, "account"))
	seq.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, label, "label"))
	if expiry != "" {
		seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, expiry, "expiry"))
	}
	if readWrite {
		seq.AppendChild(ber.NewLDAPBoolean(ber.ClassContext, ber.TypePrimitive, 1, true, "readWrite"))
	}
	return seq
}

// decodeGenerateTokenResponse decodes the responseValue of the extended
// response: value is the [11] packet go-ldap returns (its content is the
// BER of GenerateTokenResponseValue).
func decodeGenerateTokenResponse(value *ber.Packet) (GeneratedToken, error) {
	if value == nil || value.Data == nil {
		return GeneratedToken{}, errors.New("the server's answer has no value")
	}
	p, err := ber.DecodePacketErr(value.Data.Bytes())
	if err != nil {
		return GeneratedToken{}, fmt.Errorf("the server's answer is not valid BER: %w", err)
	}
	if p.ClassType != ber.ClassUniversal || p.TagType != ber.TypeConstructed || p.Tag != ber.TagSequence || len(p.Children) != 2 {
		return GeneratedToken{}, errors.New("the server's answer is not a SEQUENCE of token and token id")
	}
	var out [2]string
	for i, ch := range p.Children {
		if ch.ClassType != ber.ClassUniversal || ch.TagType != ber.TypePrimitive || ch.Tag != ber.TagOctetString {
			return GeneratedToken{}, fmt.Errorf("element %d of the server's answer is not an OCTET STRING", i+1)
		}
		out[i] = string(ch.ByteValue)
	}
	if out[0] == "" || out[1] == "" {
		return GeneratedToken{}, errors.New("the server's answer has an empty token or token id")
	}
	return GeneratedToken{Token: out[0], ID: out[1]}, nil
}
