package admin

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// A kind is one of the kinds of entry the client manages by name: people,
// groups and service accounts. Creating, reading and deleting one is the
// same for each but for its DN and object class (create, get, remove).
type kind string

const (
	kindPerson         kind = "person"
	kindGroup          kind = "group"
	kindServiceAccount kind = "service account"
)

// dn is the DN of the entry name of kind k under base.
func (k kind) dn(base directory.DN, name string) directory.DN {
	switch k {
	case kindPerson:
		return personDN(base, name)
	case kindGroup:
		return groupDN(base, name)
	}
	return serviceAccountDN(base, name)
}

// class is the structural object class of kind k.
func (k kind) class() string {
	switch k {
	case kindPerson:
		return classPerson
	case kindGroup:
		return classGroup
	}
	return directory.ClassServiceAccount
}

// op names an operation on the entry name of kind k.
func (k kind) op(action, name string) op { return op{action: action, kind: string(k), name: name} }

// create adds req, the entry name of kind k, and returns its DN.
func (c *Client) create(ctx context.Context, k kind, name string, req *ldap.AddRequest) (string, error) {
	if err := c.do(ctx, func() error { return c.conn.Add(req) }); err != nil {
		return "", c.fail(ctx, err, k.op("create "+string(k)+" "+name, name))
	}
	return req.DN, nil
}

// get reads the entry name (a bare name or an spn) of kind k.
func (c *Client) get(ctx context.Context, k kind, name string) (Entry, error) {
	name, err := localName(name, c.domain)
	if err != nil {
		return Entry{}, err
	}
	return c.getEntry(ctx, k.dn(c.base, name).String(), k.class(), k.op("read "+string(k)+" "+name, name))
}

// remove deletes the entry name (a bare name or an spn) of kind k.
func (c *Client) remove(ctx context.Context, k kind, name string) error {
	name, err := localName(name, c.domain)
	if err != nil {
		return err
	}
	dn := k.dn(c.base, name).String()
	err = c.do(ctx, func() error { return c.conn.Del(ldap.NewDelRequest(dn, nil)) })
	return c.fail(ctx, err, k.op("delete "+string(k)+" "+name, name))
}
