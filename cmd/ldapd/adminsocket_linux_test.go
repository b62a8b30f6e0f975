//go:build linux

package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// dialSocketEnv makes the test binary, started by
// TestAdminSocketRefusesOtherUsers as another user, dial the admin socket
// it names, ask WhoAmI without binding and exit (TestMain).
const dialSocketEnv = "LDAPD_TEST_DIAL_ADMIN_SOCKET"

func TestMain(m *testing.M) {
	if path := os.Getenv(dialSocketEnv); path != "" {
		os.Exit(dialAdminSocket(path))
	}
	os.Exit(m.Run())
}

// dialAdminSocket prints "whoami: <authzid>" and returns 0, or prints the
// error and returns 3.
func dialAdminSocket(path string) int {
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(path))
	if err != nil {
		fmt.Printf("dial: %v\n", err)
		return 3
	}
	defer conn.Close()
	who, err := conn.WhoAmI(nil)
	if err != nil {
		fmt.Printf("whoami: %v\n", err)
		return 3
	}
	fmt.Printf("whoami: %s uid %d\n", who.AuthzID, os.Getuid())
	return 0
}

// TestAdminSocketRefusesOtherUsers, with the real binary: a data
// directory created 0755 is tightened to 0700 with a warning; then, with
// the directory and the socket loosened by hand (0755, 0666), a process
// running as nobody (uid 65534) reaches the socket, and the server closes
// its connection and logs a security event, while the same process as
// root gets the root identity. It needs root to run a child as another
// user, and is skipped otherwise (CI runs as root).
func TestAdminSocketRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to start a child process as uid 65534 (nobody); CI runs as root")
	}
	bin := buildLdapd(t)
	base := t.TempDir()
	// nobody must be able to walk to the socket and run the test binary.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin, data)
	if st, err := os.Stat(data); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory created 0755: mode now %v (%v), want 0700", st.Mode().Perm(), err)
	}
	if !hasLogLine(p.log(), "warn", "had mode 0755", "tightened it to 0700", data) {
		t.Errorf("no warning about tightening %s:\n%s", data, p.log())
	}

	// Loosen everything: only the peer check is left to keep nobody out.
	sock := socketPath(data)
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(base, "dialer")
	copyFile(t, self, child, 0o755)
	dial := func(cred *syscall.Credential) (string, error) {
		cmd := exec.Command(child)
		cmd.Env = append(os.Environ(), dialSocketEnv+"="+sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := dial(&syscall.Credential{Uid: 65534, Gid: 65534})
	if err == nil {
		t.Fatalf("nobody on the admin socket: %v, %q; want the connection refused", err, out)
	}
	if !hasLogLine(p.log(), "warn", "refused a connection from another user", `"peer_uid":65534`) {
		t.Fatalf("no security event for uid 65534 (was the refusal the peer check's?):\n%s", p.log())
	}
	out, err = dial(nil)
	if err != nil || !strings.HasPrefix(out, "whoami: ") {
		t.Fatalf("root on the admin socket: %v, %q; want the root identity", err, out)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
