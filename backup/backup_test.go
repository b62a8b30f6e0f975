package backup_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

const base = "dc=idm,dc=example,dc=com"

// node is a data directory served as `ldapd serve` serves it on the admin
// socket: the gateway wrapped in backup.Handler, every connection root
// until it binds.
type node struct {
	data, sock string
	svc        *idm.Service
	keys       *tokens.Keyring
	adminPW    string
}

func startNode(t *testing.T) *node {
	t.Helper()
	ctx := context.Background()
	n := &node{data: t.TempDir()}
	store, keys, err := datastore.OpenBolt(n.data, boltstore.Options{Timeout: time.Second}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n.keys = keys
	n.svc, err = idm.New(idm.Config{Store: store, Domain: "idm.example.com", Keys: keys, Logger: zerolog.Nop(),
		Hasher: password.NewHasher(password.TestParams(), nil, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if n.adminPW, err = n.svc.RecoverAccount(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(datastore.TLSDir(n.data), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(datastore.TLSDir(n.data), "ca.pem"), []byte("the CA clients trust"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &backup.Handler{Next: &gateway.Gateway{IDM: n.svc}, IDM: n.svc, Store: store, Keys: keys, Data: n.data, Log: zerolog.Nop()}
	srv := &ldapserver.Server{Handler: h, Controls: gateway.Controls(), AllowInsecureBind: true, Logger: zerolog.Nop(),
		InitialIdentity: func(net.Conn) ldapserver.Identity { return idm.RootIdentity() }}
	n.sock = datastore.SocketPath(n.data)
	ln, err := net.Listen("unix", n.sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return n
}

// TestStreamAndRestore: an archive streamed from the admin socket is
// written 0600 and never over an existing file; restored into a new data
// directory it brings back the entries, the signing keys and tls/; a
// second restore needs replace, and a damaged archive is refused.
func TestStreamAndRestore(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	e := directory.NewEntry(directory.MustParseDN("uid=jo,ou=people," + base))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	e.Set("uid", "jo")
	e.Set("cn", "Jo")
	e.Set("sn", "Jo")
	if err := n.svc.Add(ctx, idm.RootIdentity(), e); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "ldapd.backup")
	size, err := backup.ToFile(ctx, n.sock, archive)
	if err != nil {
		t.Fatalf("ToFile: %v", err)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Size() != size || fi.Mode().Perm() != backup.Mode {
		t.Fatalf("archive: %v, want %d bytes of mode %04o", fi, size, backup.Mode)
	}
	if _, err := backup.ToFile(ctx, n.sock, archive); !errors.Is(err, os.ErrExist) {
		t.Errorf("ToFile over an existing archive: %v, want ErrExist", err)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := backup.Restore(ctx, archive, restored, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := datastore.VerifyFile(ctx, datastore.DBPath(restored)); err != nil {
		t.Errorf("the restored database does not verify: %v", err)
	}
	if ca, err := os.ReadFile(filepath.Join(datastore.TLSDir(restored), "ca.pem")); err != nil || string(ca) != "the CA clients trust" {
		t.Errorf("restored tls/ca.pem: %q, %v", ca, err)
	}
	store, keys, err := datastore.OpenBolt(restored, boltstore.Options{Timeout: time.Second}, false)
	if err != nil {
		t.Fatalf("open the restored directory: %v", err)
	}
	if !slices.Equal(keys.KeyIDs(), n.keys.KeyIDs()) {
		t.Errorf("restored key ids %v, want %v", keys.KeyIDs(), n.keys.KeyIDs())
	}
	err = store.View(ctx, func(tx directory.ReadTx) error { _, err := tx.Get(e.DN); return err })
	store.Close()
	if err != nil {
		t.Errorf("uid=jo in the restored directory: %v", err)
	}

	if err := backup.Restore(ctx, archive, restored, false); !errors.Is(err, backup.ErrDatabaseExists) {
		t.Errorf("Restore over a database without replace: %v, want ErrDatabaseExists", err)
	}
	if err := backup.Restore(ctx, archive, restored, true); err != nil {
		t.Errorf("Restore with replace: %v", err)
	}
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.backup")
	if err := os.WriteFile(bad, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := backup.Restore(ctx, bad, t.TempDir(), false); !errors.Is(err, backup.ErrBadArchive) {
		t.Errorf("Restore of a damaged archive: %v, want ErrBadArchive", err)
	}
}

// TestOnlyRootGetsBackup: on the admin socket, a client that re-binds as
// a system_admins member, with an API token of a system_admins service
// account, or anonymously is refused the backup (insufficientAccessRights)
// and gets no chunk; the unbound (root) client gets the archive.
func TestOnlyRootGetsBackup(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	svcDN := directory.MustParseDN("uid=backup_svc,ou=services," + base)
	e := directory.NewEntry(svcDN)
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", "backup_svc")
	e.Set("displayName", "Backup")
	e.Set(directory.AttrEntryManagedBy, "uid=admin,ou=people,"+base)
	if err := n.svc.Add(ctx, idm.RootIdentity(), e); err != nil {
		t.Fatal(err)
	}
	err := n.svc.Modify(ctx, idm.RootIdentity(), directory.MustParseDN("cn=system_admins,ou=groups,"+base),
		[]directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{svcDN.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := n.svc.GenerateToken(ctx, idm.RootIdentity(), "backup_svc", "backup", time.Time{}, tokens.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	req := ldap.NewSearchRequest(backup.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"chunk"}, nil)
	for _, tc := range []struct {
		name string
		bind func(*ldap.Conn) error
	}{
		{"admin (system_admins)", func(c *ldap.Conn) error { return c.Bind("admin", n.adminPW) }},
		{"token of a system_admins service account", func(c *ldap.Conn) error { return c.Bind("dn=token", token) }},
		{"anonymous", func(c *ldap.Conn) error { return c.UnauthenticatedBind("") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ldap.DialURL("ldapi://" + url.PathEscape(n.sock))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := tc.bind(c); err != nil {
				t.Fatalf("bind: %v", err)
			}
			res, err := c.Search(req)
			if !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
				t.Errorf("backup search: %v, want insufficientAccessRights", err)
			}
			if res != nil && len(res.Entries) > 0 {
				t.Errorf("got %d chunks", len(res.Entries))
			}
		})
	}
	var buf bytes.Buffer
	if _, err := backup.Stream(ctx, n.sock, &buf); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte(backup.Magic)) {
		t.Errorf("root's backup: %d bytes, %v", buf.Len(), err)
	}
}
