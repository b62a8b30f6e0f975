package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"

	"github.com/ldapd/ldapd/directory"
)

// Token is the record of an API token (never the token itself): a child
// entry ldapdTokenId=ID of its service account.
type Token struct {
	ID       string
	DN       string
	Label    string
	Purpose  string    // "read-only" or "read-write"
	IssuedAt time.Time // UTC
	Expiry   time.Time // UTC; the zero Time means the token never expires
	IssuedBy string    // DN of the account that generated it
}

// GeneratedToken is the answer to GenerateToken.
type GeneratedToken struct {
	Token string // the secret: shown once, stored nowhere
	ID    string // the record's id, for status and destroy
}

// TokenRequest describes the token to generate.
type TokenRequest struct {
	Label string
	// Expiry is an RFC 3339 time as the user typed it, or "" for a token
	// that never expires. It is checked with ParseExpiry and sent as is.
	Expiry string
	// ReadWrite asks for a token that may also write; the default is
	// read-only.
	ReadWrite bool
}

// ExpiryLayout is the form an expiry takes, as shown to users.
const ExpiryLayout = "2020-09-25T11:22:02+10:00"

// ParseExpiry parses an RFC 3339 expiry and refuses one not after now. A
// malformed expiry is an *Error matching ErrExpiryFormat; a past one
// matches ErrExpiryPast.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &Error{
			Msg:  fmt.Sprintf("expiry %q is not an RFC 3339 time: write a date, a time and a UTC offset, like %s (or Z for UTC: 2020-09-25T01:22:02Z)", s, ExpiryLayout),
			Err:  err,
			kind: ErrExpiryFormat,
		}
	}
	if !t.After(now) {
		return time.Time{}, &Error{
			Msg:  fmt.Sprintf("expiry %s is in the past (it is now %s): give a later time, or none for a token that never expires", s, now.In(t.Location()).Format(time.RFC3339)),
			kind: ErrExpiryPast,
		}
	}
	return t, nil
}

// ValidTokenID reports whether id has the form of a token id (a UUID).
func ValidTokenID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

func tokenAttrs() []string {
	return []string{
		directory.AttrTokenID, directory.AttrTokenLabel, directory.AttrTokenPurpose,
		directory.AttrTokenIssuedAt, directory.AttrTokenExpiry, directory.AttrTokenIssuedBy,
	}
}

// tokenSearch lists the token records of the service account at accountDN.
func tokenSearch(accountDN string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(accountDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass="+directory.ClassAPIToken+")", tokenAttrs(), nil)
}

// tokenFrom reads a token record. Times that do not parse are an error:
// showing a wrong expiry would be worse than showing none.
func tokenFrom(e Entry) (Token, error) {
	t := Token{
		ID:       e.Value(directory.AttrTokenID),
		DN:       e.DN,
		Label:    e.Value(directory.AttrTokenLabel),
		Purpose:  e.Value(directory.AttrTokenPurpose),
		IssuedBy: e.Value(directory.AttrTokenIssuedBy),
	}
	if t.ID == "" {
		return Token{}, fmt.Errorf("token record %s has no %s", e.DN, directory.AttrTokenID)
	}
	var err error
	if s := e.Value(directory.AttrTokenIssuedAt); s != "" {
		if t.IssuedAt, err = parseGeneralizedTime(s); err != nil {
			return Token{}, fmt.Errorf("token record %s: %s: %w", e.DN, directory.AttrTokenIssuedAt, err)
		}
	}
	if s := e.Value(directory.AttrTokenExpiry); s != "" {
		if t.Expiry, err = parseGeneralizedTime(s); err != nil {
			return Token{}, fmt.Errorf("token record %s: %s: %w", e.DN, directory.AttrTokenExpiry, err)
		}
	}
	return t, nil
}

// TokenStatus lists the API tokens of the service account, oldest first.
func (c *Client) TokenStatus(ctx context.Context, account string) ([]Token, error) {
	account, err := localName(account, c.domain)
	if err != nil {
		return nil, err
	}
	entries, err := c.searchPaged(ctx, tokenSearch(serviceAccountDN(c.base, account).String()),
		serviceAccountOp("list the API tokens of "+account, account))
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		// No records, or none the bound account may see: tell them apart.
		if err := c.tokenAccess(ctx, account); err != nil {
			return nil, err
		}
	}
	out := make([]Token, 0, len(entries))
	for _, le := range entries {
		t, err := tokenFrom(entryFrom(le))
		if err != nil {
			return nil, &Error{Msg: "the server sent an invalid token record: " + err.Error(), Err: err}
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// tokenPageSize is the page size of TokenStatus's search: well below the
// server's default size limit (10,000), and the default cap on tokens per
// account (500) in one page. The server answers each page by running the
// search again and skipping what it sent, so listing n records costs about
// n²/(2·tokenPageSize) entry visits: 10,100 records take 6.8 s with pages
// of 500 and 4.1 s with pages of 1,000 (the manager's status, -race off).
const tokenPageSize = 1000

// searchPaged runs a search with the Simple Paged Results control (RFC
// 2696), so that it returns every entry however many there are: a plain
// search stops at the server's size limit, and a listing that is an audit
// (TokenStatus) must not. A failure in any page is a failure of the whole
// search, never a partial list.
func (c *Client) searchPaged(ctx context.Context, req *ldap.SearchRequest, o op) ([]*ldap.Entry, error) {
	var res *ldap.SearchResult
	err := c.do(ctx, func() error {
		var err error
		res, err = c.conn.SearchWithPaging(req, tokenPageSize)
		return err
	})
	if err != nil {
		return nil, c.fail(ctx, err, o)
	}
	return res.Entries, nil
}

// GenerateToken asks the server for a new API token of the service
// account, with ldapd's extended operation GenerateTokenOID. The token in
// the answer exists nowhere else: the server keeps only its record.
func (c *Client) GenerateToken(ctx context.Context, account string, r TokenRequest) (GeneratedToken, error) {
	account, err := localName(account, c.domain)
	if err != nil {
		return GeneratedToken{}, err
	}
	if r.Label == "" {
		return GeneratedToken{}, &Error{Msg: "an API token needs a label"}
	}
	if r.Expiry != "" {
		if _, err := ParseExpiry(r.Expiry, c.now()); err != nil {
			return GeneratedToken{}, err
		}
	}
	value, err := encodeGenerateTokenRequest(serviceAccountDN(c.base, account).String(), r.Label, r.Expiry, r.ReadWrite)
	if err != nil {
		return GeneratedToken{}, err
	}
	var resp *ldap.ExtendedResponse
	err = c.do(ctx, func() error {
		var err error
		resp, err = c.conn.Extended(ldap.NewExtendedRequest(GenerateTokenOID, value))
		return err
	})
	o := serviceAccountOp("generate API tokens for "+account, account)
	if err != nil {
		if ldap.IsErrorAnyOf(err, ldap.LDAPResultProtocolError, ldap.LDAPResultUnwillingToPerform) && !slices.Contains(c.extensions, GenerateTokenOID) {
			return GeneratedToken{}, &Error{
				Msg: fmt.Sprintf("the server at %s does not support ldapd's token operation (%s): is it an ldapd server?", c.url, GenerateTokenOID),
				Err: err,
			}
		}
		if ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded) {
			// The server's cap on tokens per account: its message names
			// the cap and what to do.
			return GeneratedToken{}, &Error{Msg: fmt.Sprintf("cannot %s: %s", o.action, diagnostic(err)), Err: err}
		}
		return GeneratedToken{}, c.fail(ctx, err, o)
	}
	g, err := decodeGenerateTokenResponse(resp.Value)
	if err != nil {
		return GeneratedToken{}, &Error{Msg: "cannot read the generated token: " + err.Error(), Err: err}
	}
	return g, nil
}

// DestroyToken deletes the record of the token id of the service account,
// which revokes the token at once.
func (c *Client) DestroyToken(ctx context.Context, account, id string) error {
	account, err := localName(account, c.domain)
	if err != nil {
		return err
	}
	if !ValidTokenID(id) {
		return &Error{Msg: fmt.Sprintf("%q is not a token id (token ids are UUIDs such as 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7)", id)}
	}
	dn := tokenDN(c.base, account, id).String()
	err = c.do(ctx, func() error { return c.conn.Del(ldap.NewDelRequest(dn, nil)) })
	if err == nil {
		return nil
	}
	o := serviceAccountOp(fmt.Sprintf("destroy API token %s of %s", id, account), account)
	if !errorsIsNotFound(err) {
		return c.fail(ctx, err, o)
	}
	// Say which is missing: the account or the token, or whether the
	// record is hidden because the bound account may not manage the tokens.
	if aerr := c.tokenAccess(ctx, account); aerr != nil {
		return aerr
	}
	return &Error{Msg: fmt.Sprintf("service account %s has no API token %s", account, id), Err: err, kind: ErrNotFound}
}

// tokenAccess explains an empty or noSuchObject answer about the token
// records of the service account. The server hides token records from
// those who may not manage the account (docs/design.md: denied entries are
// not returned), so over LDAP "no tokens" and "not allowed" would look
// alike; the server says which in the diagnostic message of a search below
// the account (its policy's reason, which depends on the bound account's
// rights only). tokenAccess returns an error matching ErrNotAllowed with
// that reason, such as "demo_user may not manage demo_service: not a
// member of demo_group", the error of reading the service account
// (ErrNotFound when it does not exist), or nil when the bound account may
// see the records.
func (c *Client) tokenAccess(ctx context.Context, account string) error {
	sa, err := c.GetServiceAccount(ctx, account)
	if err != nil {
		return err
	}
	var res *ldap.SearchResult
	if err := c.do(ctx, func() error {
		var err error
		res, err = c.conn.Search(ldap.NewSearchRequest(sa.DN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 1, 0, true,
			"(objectClass="+directory.ClassAPIToken+")", []string{"1.1"}, nil))
		return err
	}); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil
	}
	if res != nil && res.DiagnosticMessage != "" {
		return &Error{Msg: res.DiagnosticMessage, kind: ErrNotAllowed}
	}
	return nil
}

// diagnostic is the server's diagnostic message of an LDAP error, or the
// error's text when there is none.
func diagnostic(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) && le.Err != nil && le.Err.Error() != "" {
		return le.Err.Error()
	}
	return err.Error()
}
