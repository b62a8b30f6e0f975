package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// ServiceAccount is a service account entry (uid=NAME,ou=services,BASE).
type ServiceAccount struct {
	Name           string
	DN             string
	DisplayName    string
	Description    string
	EntryManagedBy string // DN of the managing group or account
	SPN            string
	UUID           string
	MemberOf       []string
	Entry          Entry // every attribute the server returned
}

func serviceAccountFrom(e Entry) ServiceAccount {
	return ServiceAccount{
		Name:           e.Value("uid"),
		DN:             e.DN,
		DisplayName:    e.Value("displayName"),
		Description:    e.Value("description"),
		EntryManagedBy: e.Value(directory.AttrEntryManagedBy),
		SPN:            e.Value(directory.AttrSPN),
		UUID:           e.Value("entryUUID"),
		MemberOf:       e.Values("memberOf"),
		Entry:          e,
	}
}

func serviceAccountOp(action, name string) op { return KindServiceAccount.op(action, name) }

// serviceAccountAdd builds the Add of a service account. managerDN is
// already resolved.
func serviceAccountAdd(base directory.DN, name, displayName, managerDN string) *ldap.AddRequest {
	req := ldap.NewAddRequest(serviceAccountDN(base, name).String(), nil)
	req.Attribute("objectClass", []string{"top", directory.ClassServiceAccount})
	req.Attribute("uid", []string{name})
	if displayName != "" {
		req.Attribute("displayName", []string{displayName})
	}
	req.Attribute(directory.AttrEntryManagedBy, []string{managerDN})
	return req
}

// CreateServiceAccount adds the service account name, managed by
// managedBy (a group or account, resolved with Resolve). It returns the
// new entry's DN.
func (c *Client) CreateServiceAccount(ctx context.Context, name, displayName, managedBy string) (string, error) {
	name, err := localName(name, c.domain)
	if err != nil {
		return "", err
	}
	managerDN, err := c.Resolve(ctx, managedBy)
	if err != nil {
		return "", err
	}
	return c.create(ctx, KindServiceAccount, name, serviceAccountAdd(c.base, name, displayName, managerDN))
}

// GetServiceAccount reads the service account name.
func (c *Client) GetServiceAccount(ctx context.Context, name string) (ServiceAccount, error) {
	e, err := c.Get(ctx, KindServiceAccount, name)
	return serviceAccountFrom(e), err
}

// ListServiceAccounts returns the service accounts the bound account may
// see, sorted by name.
func (c *Client) ListServiceAccounts(ctx context.Context) ([]ServiceAccount, error) {
	req := ldap.NewSearchRequest(container(c.base, ouServices).String(), ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass="+directory.ClassServiceAccount+")", getAttrs(), nil)
	entries, err := c.search(ctx, req, op{action: "list service accounts"})
	if errorsIsNotFound(err) {
		return nil, nil // no ou=services (or not visible): no service accounts
	}
	if err != nil {
		return nil, err
	}
	out := make([]ServiceAccount, 0, len(entries))
	for _, le := range entries {
		out = append(out, serviceAccountFrom(entryFrom(le)))
	}
	slices.SortFunc(out, func(a, b ServiceAccount) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// ServiceAccountUpdate is a change to a service account; empty fields are
// left as they are.
type ServiceAccountUpdate struct {
	DisplayName    string
	EntryManagedBy string // a name for Resolve
}

// serviceAccountModify builds the Modify of an update; managerDN is the
// resolved EntryManagedBy ("" to leave it).
func serviceAccountModify(dn, displayName, managerDN string) *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(dn, nil)
	if displayName != "" {
		req.Replace("displayName", []string{displayName})
	}
	if managerDN != "" {
		req.Replace(directory.AttrEntryManagedBy, []string{managerDN})
	}
	return req
}

// UpdateServiceAccount changes the display name and/or the manager of the
// service account name.
func (c *Client) UpdateServiceAccount(ctx context.Context, name string, u ServiceAccountUpdate) error {
	name, err := localName(name, c.domain)
	if err != nil {
		return err
	}
	if u.DisplayName == "" && u.EntryManagedBy == "" {
		return &Error{Msg: fmt.Sprintf("nothing to change on service account %s", name)}
	}
	managerDN := ""
	if u.EntryManagedBy != "" {
		if managerDN, err = c.Resolve(ctx, u.EntryManagedBy); err != nil {
			return err
		}
	}
	req := serviceAccountModify(serviceAccountDN(c.base, name).String(), u.DisplayName, managerDN)
	if err := c.do(ctx, func() error { return c.conn.Modify(req) }); err != nil {
		return c.fail(ctx, err, serviceAccountOp("update service account "+name, name))
	}
	return nil
}

// DeleteServiceAccount deletes the service account name and with it its
// API tokens. If the server refuses to delete an entry that still has
// token records (notAllowedOnNonLeaf), the records are deleted first and
// the delete retried.
func (c *Client) DeleteServiceAccount(ctx context.Context, name string) error {
	name, err := localName(name, c.domain)
	if err != nil {
		return err
	}
	dn := serviceAccountDN(c.base, name).String()
	o := serviceAccountOp("delete service account "+name, name)
	del := func() error { return c.do(ctx, func() error { return c.conn.Del(ldap.NewDelRequest(dn, nil)) }) }
	err = del()
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultNotAllowedOnNonLeaf) {
		return c.fail(ctx, err, o)
	}
	tokens, terr := c.TokenStatus(ctx, name)
	if terr != nil {
		return terr
	}
	for _, t := range tokens {
		if derr := c.do(ctx, func() error { return c.conn.Del(ldap.NewDelRequest(t.DN, nil)) }); derr != nil &&
			!ldap.IsErrorWithCode(derr, ldap.LDAPResultNoSuchObject) {
			return c.fail(ctx, derr, op{action: fmt.Sprintf("delete API token %s of service account %s", t.ID, name)})
		}
	}
	return c.fail(ctx, del(), o)
}

// getEntry reads one entry of the given structural class.
func (c *Client) getEntry(ctx context.Context, dn, class string, o op) (Entry, error) {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass="+class+")", getAttrs(), nil)
	entries, err := c.search(ctx, req, o)
	if err != nil {
		return Entry{}, err
	}
	if len(entries) == 0 {
		// The entry exists but is of another class.
		return Entry{}, &Error{Msg: fmt.Sprintf("no %s named %s", o.kind, o.name), kind: ErrNotFound}
	}
	return entryFrom(entries[0]), nil
}

func errorsIsNotFound(err error) bool {
	return ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject)
}
