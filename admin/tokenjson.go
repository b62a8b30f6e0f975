package admin

import "time"

// TokenJSON is a token record in JSON: the objects of `ldapd
// service-account api-token status -o json` and of the web console's JSON
// API (package console). Expiry is null for a token that never expires.
type TokenJSON struct {
	TokenID    string  `json:"token_id"`
	Label      string  `json:"label"`
	Purpose    string  `json:"purpose"`
	IssuedAt   string  `json:"issued_at"`
	Expiry     *string `json:"expiry"`
	IssuedBy   string  `json:"issued_by"`    // short name of the issuer
	IssuedByDN string  `json:"issued_by_dn"` // the issuer's DN
}

// JSON returns the record as TokenJSON: times in RFC 3339 in loc ("" for
// an unknown issue time), IssuedBy the name that name gives the issuer's
// DN.
func (t Token) JSON(loc *time.Location, name func(dn string) string) TokenJSON {
	j := TokenJSON{TokenID: t.ID, Label: t.Label, Purpose: t.Purpose, IssuedAt: rfc3339In(t.IssuedAt, loc),
		IssuedBy: name(t.IssuedBy), IssuedByDN: t.IssuedBy}
	if !t.Expiry.IsZero() {
		s := rfc3339In(t.Expiry, loc)
		j.Expiry = &s
	}
	return j
}

func rfc3339In(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}
