package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ldapd/ldapd/admin"
)

// leafCommands lists every client leaf command with arguments that pass
// parsing (so that a test can add or remove one).
var leafCommands = []struct {
	path     []string
	args     []string // valid positionals (and flags the command needs)
	variadic bool     // takes any number of trailing positionals
}{
	{[]string{"service-account", "create"}, []string{"demo_service", "Demonstration Service", "demo_group"}, false},
	{[]string{"service-account", "get"}, []string{"demo_service"}, false},
	{[]string{"service-account", "list"}, nil, false},
	{[]string{"service-account", "update"}, []string{"demo_service", "--displayname", "X"}, false},
	{[]string{"service-account", "delete"}, []string{"demo_service"}, false},
	{[]string{"service-account", "api-token", "status"}, []string{"demo_service"}, false},
	{[]string{"service-account", "api-token", "generate"}, []string{"demo_service", "Test Token"}, false},
	{[]string{"service-account", "api-token", "destroy"}, []string{"demo_service", "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"}, false},
	{[]string{"person", "create"}, []string{"demo_user", "Demo User"}, false},
	{[]string{"person", "get"}, []string{"demo_user"}, false},
	{[]string{"person", "set-password"}, []string{"demo_user", "--generate"}, false},
	{[]string{"person", "delete"}, []string{"demo_user"}, false},
	{[]string{"group", "create"}, []string{"demo_group"}, false},
	{[]string{"group", "get"}, []string{"demo_group"}, false},
	{[]string{"group", "add-members"}, []string{"demo_group", "demo_user"}, true},
	{[]string{"group", "remove-members"}, []string{"demo_group", "demo_user"}, true},
	{[]string{"group", "list-members"}, []string{"demo_group"}, false},
	{[]string{"group", "delete"}, []string{"demo_group"}, false},
	{[]string{"person", "posix"}, []string{"demo_user", "--shell", "/bin/sh"}, false},
	{[]string{"group", "posix"}, []string{"demo_group"}, false},
}

func runClientCLI(e *env, args ...string) int { return run(context.Background(), e, args) }

func TestClientCommandHelp(t *testing.T) {
	for _, c := range leafCommands {
		name := strings.Join(c.path, " ")
		t.Run(name, func(t *testing.T) {
			for _, at := range [][]string{{"--help"}, {"-h"}, append(append([]string{}, c.args...), "--bogus", "--help")} {
				e, stdout, stderr := clientTestEnv(nil, false)
				if code := runClientCLI(e, append(append([]string{}, c.path...), at...)...); code != 0 {
					t.Fatalf("%q: exit %d, stderr %s", at, code, stderr)
				}
				help := stdout.String()
				for _, want := range []string{
					"Usage: ldapd " + name + " ",
					"\nFlags:\n", "--name NAME", "--password-file FILE", "--url URL", "--ca FILE", "-o, --output FORMAT", "-h, --help",
					"\nEnvironment:\n", "LDAPD_PASSWORD",
					"\nExamples:\n  ldapd " + c.path[0] + " ",
					"\nExit status:\n",
				} {
					if !strings.Contains(help, want) {
						t.Errorf("%q: help lacks %q:\n%s", at, want, help)
					}
				}
				if len(c.args) > 0 && !strings.Contains(help, "\nArguments:\n") {
					t.Errorf("help lacks Arguments")
				}
			}
		})
	}
}

func TestClientGroupHelp(t *testing.T) {
	for _, g := range [][]string{{"service-account"}, {"service-account", "api-token"}, {"person"}, {"group"}} {
		e, stdout, _ := clientTestEnv(nil, false)
		if code := runClientCLI(e, append(g, "--help")...); code != 0 {
			t.Errorf("%v --help: exit %d", g, code)
		}
		if !strings.Contains(stdout.String(), "Usage: ldapd "+strings.Join(g, " ")+" SUBCOMMAND") {
			t.Errorf("%v --help:\n%s", g, stdout)
		}
		for _, c := range leafCommands {
			if strings.Join(c.path[:len(c.path)-1], " ") == strings.Join(g, " ") && !strings.Contains(stdout.String(), "  "+c.path[len(c.path)-1]+" ") {
				t.Errorf("%v --help does not list %s", g, c.path[len(c.path)-1])
			}
		}
		e, _, stderr := clientTestEnv(nil, false)
		if code := runClientCLI(e, g...); code != 2 || !strings.Contains(stderr.String(), "missing subcommand") {
			t.Errorf("%v without subcommand: exit %d, %s", g, code, stderr)
		}
	}
}

// Every command rejects a missing and an extra positional, and a missing
// --name, with exit status 2, before asking for a password or connecting.
func TestClientCommandArgumentErrors(t *testing.T) {
	for _, c := range leafCommands {
		name := strings.Join(c.path, " ")
		t.Run(name, func(t *testing.T) {
			var pos []string // the positionals in c.args
			for i := 0; i < len(c.args); i++ {
				if strings.HasPrefix(c.args[i], "--") {
					if c.args[i] != "--generate" {
						i++
					}
					continue
				}
				pos = append(pos, c.args[i])
			}
			flagsOf := func(args []string) []string {
				var out []string
				for i := 0; i < len(args); i++ {
					if strings.HasPrefix(args[i], "--") {
						out = append(out, args[i])
						if args[i] != "--generate" {
							out = append(out, args[i+1])
							i++
						}
					}
				}
				return out
			}
			cases := map[string][]string{
				"missing --name": c.args,
				"extra argument": append(append([]string{"--name", "idm_admin"}, c.args...), "extra"),
			}
			if c.variadic {
				delete(cases, "extra argument")
			}
			if len(pos) > 0 {
				cases["missing argument"] = append([]string{"--name", "idm_admin"}, append(pos[:len(pos)-1], flagsOf(c.args)...)...)
			}
			for what, args := range cases {
				e, stdout, stderr := clientTestEnv(map[string]string{"LDAPD_PASSWORD": "pw", "LDAPD_URL": "ldaps://127.0.0.1:1"}, false)
				code := runClientCLI(e, append(append([]string{}, c.path...), args...)...)
				msg := stderr.String()
				if code != 2 || !strings.HasPrefix(msg, "ldapd "+c.path[0]+": ") || !strings.Contains(msg, "\nusage: ldapd "+name+" ") {
					t.Errorf("%s %q: exit %d, stderr %q", what, args, code, msg)
				}
				if strings.Contains(msg, "cannot reach") {
					t.Errorf("%s: connected before checking arguments", what)
				}
				if stdout.Len() != 0 {
					t.Errorf("%s: stdout %q", what, stdout)
				}
			}
		})
	}
}

func TestClientCommandSpecificErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		code int
		want string
	}{
		{"malformed expiry, before any password",
			[]string{"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", "2020-09-25"},
			nil, 2, `ldapd service-account: api-token generate: expiry "2020-09-25" is not an RFC 3339 time`},
		{"expiry in the past",
			[]string{"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", "2020-09-25T11:22:02+10:00", "--rw"},
			nil, 1, "ldapd service-account: expiry 2020-09-25T11:22:02+10:00 is in the past"},
		{"empty label",
			[]string{"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", ""},
			nil, 2, "LABEL must not be empty"},
		{"bad token id",
			[]string{"service-account", "api-token", "destroy", "--name", "demo_user", "demo_service", "Test Token"},
			nil, 2, `"Test Token" is not a token id`},
		{"update with nothing to change",
			[]string{"service-account", "update", "demo_service", "--name", "idm_admin"},
			nil, 2, "nothing to change"},
		{"empty display name",
			[]string{"service-account", "create", "s", "", "g", "--name", "idm_admin"},
			nil, 2, "DISPLAY_NAME must not be empty"},
		{"no password source",
			[]string{"service-account", "get", "demo_service", "--name", "idm_admin"},
			nil, 2, "no password for idm_admin: set LDAPD_PASSWORD, pass --password-file FILE, or run on a terminal to be asked"},
		{"password as a flag is refused",
			[]string{"service-account", "get", "demo_service", "--name", "idm_admin", "--password", "x"},
			nil, 2, "unknown flag --password"},
		{"missing password file",
			[]string{"group", "get", "g", "--name", "idm_admin", "--password-file", "/nonexistent/pw"},
			nil, 1, "cannot read the password file"},
		{"generate and new-password-file",
			[]string{"person", "set-password", "u", "--generate", "--new-password-file", "f", "--name", "idm_admin"},
			nil, 2, "give --new-password-file or --generate, not both"},
		{"no new password source",
			[]string{"person", "set-password", "u", "--name", "idm_admin"},
			map[string]string{"LDAPD_PASSWORD": "pw"}, 2, "no new password: set LDAPD_NEW_PASSWORD"},
		{"unknown output",
			[]string{"group", "get", "g", "--name", "idm_admin", "-o", "yaml"},
			nil, 2, `unknown output format "yaml"`},
		{"unknown subcommand",
			[]string{"service-account", "api-token", "revoke"},
			nil, 2, `unknown subcommand "revoke"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, stdout, stderr := clientTestEnv(tc.vars, false)
			code := runClientCLI(e, tc.args...)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, tc.code, stderr, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// With no server listening, the error says so and how to fix it.
func TestClientCommandUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ldaps://" + ln.Addr().String()
	ln.Close()
	e, stdout, stderr := clientTestEnv(map[string]string{"LDAPD_PASSWORD": "pw", "LDAPD_URL": url}, false)
	code := runClientCLI(e, "service-account", "api-token", "status", "--name", "demo_user", "demo_service")
	want := "ldapd service-account: cannot reach the server at " + url + ": is `ldapd serve` running?"
	if code != 1 || !strings.HasPrefix(stderr.String(), want) || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr %q, want prefix %q", code, stderr, want)
	}
}

func TestBindPassword(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		file     string
		vars     map[string]string
		terminal bool
		want     string
		prompt   bool
		wantErr  string
	}{
		{"env", "", map[string]string{"LDAPD_PASSWORD": "envpw"}, false, "envpw", false, ""},
		{"file", write("a", "filepw\n"), nil, false, "filepw", false, ""},
		{"file: first line only, CRLF", write("b", "filepw\r\nsecond\n"), nil, false, "filepw", false, ""},
		{"file: no newline", write("c", "filepw"), nil, false, "filepw", false, ""},
		{"file: spaces kept", write("d", " pw \n"), nil, false, " pw ", false, ""},
		{"file wins over env", write("e", "filepw\n"), map[string]string{"LDAPD_PASSWORD": "envpw"}, false, "filepw", false, ""},
		{"empty file", write("f", "\n"), nil, false, "", false, "is empty"},
		{"terminal", "", nil, true, "", true, ""},
		{"nothing", "", nil, false, "", false, "no password for idm_admin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := clientTestEnv(tc.vars, tc.terminal)
			inv := testInvocation(t, "group", "get")
			inv.client.name = "idm_admin"
			inv.client.passwordFile = tc.file
			pw, prompt, err := inv.bindPassword(e)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || pw != tc.want || prompt != tc.prompt {
				t.Errorf("got %q, %v, %v", pw, prompt, err)
			}
		})
	}
}

func TestNewPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(file, []byte("frompw\n"), 0o600)
	inv := testInvocation(t, "person", "set-password")

	e, _, _ := clientTestEnv(map[string]string{"LDAPD_NEW_PASSWORD": "envpw"}, true)
	if pw, prompt, err := inv.newPassword(e, "", true); pw != "" || prompt || err != nil {
		t.Errorf("--generate: %q %v %v", pw, prompt, err)
	}
	if pw, _, err := inv.newPassword(e, file, false); pw != "frompw" || err != nil {
		t.Errorf("file: %q %v", pw, err)
	}
	if pw, _, err := inv.newPassword(e, "", false); pw != "envpw" || err != nil {
		t.Errorf("env: %q %v", pw, err)
	}
	e, _, _ = clientTestEnv(nil, true)
	if _, prompt, err := inv.newPassword(e, "", false); !prompt || err != nil {
		t.Errorf("terminal: %v %v", prompt, err)
	}

	e, _, stderr := clientTestEnv(nil, true, "s3cret", "s3cret")
	if pw, err := promptNewPassword(e, "demo_user"); pw != "s3cret" || err != nil {
		t.Errorf("prompt: %q %v", pw, err)
	}
	if !strings.Contains(stderr.String(), "New password for demo_user: \nRetype the new password: ") {
		t.Errorf("prompts: %q", stderr)
	}
	e, _, _ = clientTestEnv(nil, true, "s3cret", "other")
	if _, err := promptNewPassword(e, "demo_user"); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Errorf("mismatch: %v", err)
	}
	e, _, _ = clientTestEnv(nil, true, "")
	if _, err := promptNewPassword(e, "demo_user"); err == nil || !strings.Contains(err.Error(), "empty password") {
		t.Errorf("empty: %v", err)
	}
}

func TestClientConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	e, _, _ := clientTestEnv(nil, false)
	cf := clientFlags{}
	cfg := cf.config(e)
	trust := cfg.Trusted()
	if cfg.URL != "ldaps://localhost:3636" || cfg.CAFile != "" || trust != "the system's root certificates" {
		t.Errorf("defaults: %+v, %s", cfg, trust)
	}

	if err := os.MkdirAll("data/tls", 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("data/tls/ca.pem", []byte("x"), 0o600)
	cfg = cf.config(e)
	trust = cfg.Trusted()
	if cfg.CAFile != "data/tls/ca.pem" || trust != "the CA certificate in data/tls/ca.pem" {
		t.Errorf("default CA file: %+v, %s", cfg, trust)
	}

	e, _, _ = clientTestEnv(map[string]string{"LDAPD_URL": "ldap://env:389", "LDAPD_CA": "/env/ca.pem"}, false)
	cfg = cf.config(e)
	if cfg.URL != "ldap://env:389" || cfg.CAFile != "/env/ca.pem" {
		t.Errorf("env: %+v", cfg)
	}
	cf = clientFlags{url: "ldaps://flag:1", ca: "/flag/ca.pem"}
	cfg = cf.config(e)
	if cfg.URL != "ldaps://flag:1" || cfg.CAFile != "/flag/ca.pem" {
		t.Errorf("flags: %+v", cfg)
	}
}

func TestHints(t *testing.T) {
	const url = "ldaps://localhost:3636"
	const trust = "the system's root certificates"
	tests := []struct {
		name string
		got  error
		want string
	}{
		{"refused",
			dialHint(&admin.Error{Msg: "cannot reach the server at " + url + ": connection refused", Err: fmt.Errorf("%w: %w", admin.ErrUnreachable, syscall.ECONNREFUSED)}, url, trust),
			"cannot reach the server at " + url + ": is `ldapd serve` running? (connection refused; set --url or LDAPD_URL for another server)"},
		{"no such host",
			dialHint(&admin.Error{Msg: "cannot reach the server at ldaps://nope:3636: lookup nope: no such host", Err: admin.ErrUnreachable}, "ldaps://nope:3636", trust),
			"cannot reach the server at ldaps://nope:3636: lookup nope: no such host (check --url or LDAPD_URL)"},
		{"unknown authority",
			dialHint(&admin.Error{Msg: "the server at " + url + " presented a certificate signed by an unknown authority", Err: x509.UnknownAuthorityError{}}, url, trust),
			"the server at " + url + " presented a certificate signed by an unknown authority: set LDAPD_CA or --ca to the server's CA certificate, data/tls/ca.pem in the server's data directory (trusted now: the system's root certificates)"},
		{"other certificate problem",
			dialHint(&admin.Error{Msg: "the certificate of the server at " + url + " is invalid: expired", Err: admin.ErrUntrusted}, url, "the CA certificate in ca.pem"),
			"the certificate of the server at " + url + " is invalid: expired (trusted now: the CA certificate in ca.pem)"},
		{"wrong password",
			bindHint(&admin.Error{Msg: "authentication as idm_admin failed: wrong name or password", Err: admin.ErrAuthFailed}, "idm_admin"),
			"authentication as idm_admin failed: wrong name or password (reset it with: ldapd recover-account idm_admin)"},
		{"other bind error",
			bindHint(errors.New("cannot authenticate as x: busy"), "x"),
			"cannot authenticate as x: busy"},
	}
	for _, tc := range tests {
		if tc.got.Error() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
	if err := bindHint(&admin.Error{Msg: "m", Err: admin.ErrAuthFailed}, "x"); !errors.Is(err, admin.ErrAuthFailed) {
		t.Error("the hint hides the cause")
	}
}
