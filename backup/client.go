package backup

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/go-ldap/ldap/v3"
)

// ToFile streams the archive from the server on the admin socket sock
// into path, which must not exist, creating it with Mode; then syncs it
// and checks it as Restore would. On failure nothing is left at path.
func ToFile(ctx context.Context, sock, path string) (n int64, err error) {
	conn, err := dial(sock)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, Mode)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("backup: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if n, err = stream(ctx, conn, sock, f); err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if _, err := Read(f); err != nil {
		return n, fmt.Errorf("backup: the archive received does not check: %w", err)
	}
	return n, nil
}

// Stream asks the server on the admin socket sock for the archive and
// copies it to w as it arrives. On error, what was written to w is not an
// archive.
func Stream(ctx context.Context, sock string, w io.Writer) (int64, error) {
	conn, err := dial(sock)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return stream(ctx, conn, sock, w)
}

// dial connects to the server's admin socket; with no server there, the
// error says that a backup needs one.
func dial(sock string) (*ldap.Conn, error) {
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(sock))
	if err != nil {
		return nil, fmt.Errorf("no server on %s (backup needs the running server; a stopped data directory can be copied as files): %w", sock, err)
	}
	return conn, nil
}

func stream(ctx context.Context, conn *ldap.Conn, sock string, w io.Writer) (int64, error) {
	req := ldap.NewSearchRequest(DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"chunk"}, nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := conn.SearchAsync(ctx, req, 4)
	var n int64
	for res.Next() {
		for _, b := range res.Entry().GetRawAttributeValues("chunk") {
			m, err := w.Write(b)
			n += int64(m)
			if err != nil {
				return n, fmt.Errorf("backup: write: %w", err)
			}
		}
	}
	if err := res.Err(); err != nil {
		return n, fmt.Errorf("backup from %s: %w", sock, err)
	}
	return n, nil
}
