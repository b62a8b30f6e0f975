package admin

import (
	"errors"
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/ldapd/ldapd/ldapserver/wire"
)

// GenerateTokenOID names ldapd's "generate API token" extended operation;
// its request and response values are defined once, in ldapserver/wire
// (wire.GenerateToken), for the server and this client alike.
const GenerateTokenOID = wire.GenerateTokenOID

// encodeGenerateTokenRequest builds the request value as the go-ldap
// packet its ExtendedRequest carries.
func encodeGenerateTokenRequest(accountDN, label, expiry string, readWrite bool) (*ber.Packet, error) {
	v := wire.AppendGenerateToken(nil, wire.GenerateToken{
		Account: accountDN, Label: label, Expiry: expiry, HasExpiry: expiry != "", ReadWrite: readWrite})
	p, err := ber.DecodePacketErr(v)
	if err != nil {
		return nil, fmt.Errorf("encode the token request: %w", err)
	}
	return p, nil
}

// decodeGenerateTokenResponse decodes the responseValue of the extended
// response: value is the [11] packet go-ldap returns (its content is the
// BER of GenerateTokenResponseValue).
func decodeGenerateTokenResponse(value *ber.Packet) (GeneratedToken, error) {
	if value == nil || value.Data == nil || value.Data.Len() == 0 {
		return GeneratedToken{}, errors.New("the server's answer has no value")
	}
	token, id, err := wire.DecodeGenerateTokenResponse(value.Data.Bytes())
	if err != nil {
		return GeneratedToken{}, fmt.Errorf("the server's answer is not a token and a token id: %w", err)
	}
	if token == "" || id == "" {
		return GeneratedToken{}, errors.New("the server's answer has an empty token or token id")
	}
	return GeneratedToken{Token: token, ID: id}, nil
}
