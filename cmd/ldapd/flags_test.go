package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestFlagsAnywhere: flags come before, between or after the positionals,
// "--" ends them, and -h/--help works wherever it is. Each command line
// stops before any connection at a check whose message shows what was
// parsed: the --name value ("no password for NAME"), the EXPIRY or
// TOKEN_ID positional, or the leftover positionals.
func TestFlagsAnywhere(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr (stdout for help)
	}{
		{"flags first (seed)", []string{"service-account", "api-token", "status", "--name", "demo_user", "demo_service"},
			2, "no password for demo_user"},
		{"flags last (seed)", []string{"service-account", "create", "demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin"},
			2, "no password for idm_admin"},
		{"interleaved with bool", []string{"service-account", "api-token", "generate", "--name", "u", "svc", "Test Token", "2020-09-25", "--rw"},
			2, `expiry "2020-09-25" is not an RFC 3339 time`},
		{"bool does not take the next argument", []string{"service-account", "api-token", "generate", "--rw", "svc", "label", "2020-09-25", "--name", "u"},
			2, `expiry "2020-09-25"`},
		{"bool with value", []string{"service-account", "api-token", "generate", "--rw=false", "svc", "label", "2020-09-25", "--name", "u"},
			2, `expiry "2020-09-25"`},
		{"equals form", []string{"service-account", "get", "svc", "--name=idm_admin"}, 2, "no password for idm_admin"},
		{"short output flag", []string{"group", "get", "-o", "json", "g", "--name", "x"}, 2, "no password for x"},
		{"value that looks like a flag", []string{"service-account", "list", "--name", "--rw"}, 2, "no password for --rw"},
		{"empty value", []string{"service-account", "get", "--name", "", "svc"}, 2, "--name NAME is required"},
		{"double dash ends flags", []string{"service-account", "api-token", "destroy", "--name", "x", "--", "-svc", "--rw"},
			2, `"--rw" is not a token id`},
		{"lone dash is positional", []string{"service-account", "get", "-", "--name", "x"}, 2, "no password for x"},
		{"flag before the subcommand", []string{"service-account", "--name", "x", "api-token", "status", "svc"}, 2, "no password for x"},
		{"too many", []string{"group", "get", "a", "b", "c", "--name", "n"}, 2, `get: too many arguments: "b" "c"`},
		{"unknown flag", []string{"service-account", "get", "svc", "--password", "secret", "--name", "x"}, 2, "unknown flag --password"},
		{"flag of another command", []string{"group", "get", "g", "--name", "n", "--rw"}, 2, "unknown flag --rw"},
		{"missing value", []string{"service-account", "get", "svc", "--name"}, 2, "flag --name needs a value"},
		{"missing value, short", []string{"group", "get", "g", "--name", "n", "-o"}, 2, "flag -o needs a value"},
		{"unknown short flag", []string{"group", "get", "g", "--name", "n", "-x"}, 2, "unknown flag -x"},
		{"unknown flag of serve", []string{"serve", "--bogus"}, 2, "ldapd serve: unknown flag --bogus\nusage: ldapd serve [flags]"},
		{"help long, after a positional", []string{"service-account", "get", "svc", "--help"}, 0, "Usage: ldapd service-account get "},
		{"help short, first", []string{"person", "-h", "get"}, 0, "Usage: ldapd person get "},
		{"help wins over an unknown flag", []string{"serve", "--bogus", "--help"}, 0, "Usage: ldapd serve"},
		{"help subcommand of a group", []string{"person", "help"}, 0, "Usage: ldapd person SUBCOMMAND"},
		{"help command", []string{"help", "group", "get"}, 0, "Usage: ldapd group get "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, stdout, stderr := clientTestEnv(nil, false)
			code := run(context.Background(), e, tc.args)
			out := stderr.String()
			if tc.code == 0 {
				out = stdout.String()
			}
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q; want %q", code, tc.code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestTopLevel: ldapd alone prints the usage and exits 2, --help and help
// exit 0, an unknown command is a usage error that suggests the near one.
func TestTopLevel(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, 2, "Usage: ldapd COMMAND [ARGS] [FLAGS]", ""},
		{[]string{"--help"}, 0, "Usage: ldapd COMMAND [ARGS] [FLAGS]", ""},
		{[]string{"-h"}, 0, "\n  service-account  ", ""},
		{[]string{"help"}, 0, "Run 'ldapd COMMAND --help'", ""},
		{[]string{"serv"}, 2, "", `ldapd: unknown command "serv" (did you mean serve? see ldapd --help)`},
		{[]string{"bogus", "--name", "x"}, 2, "", `ldapd: unknown command "bogus"`},
		{[]string{"--bogus"}, 2, "", `ldapd: unknown flag --bogus`},
	}
	for _, tc := range tests {
		e, stdout, stderr := clientTestEnv(nil, false)
		code := run(context.Background(), e, tc.args)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) ||
			(tc.stderr == "" && stderr.Len() > 0) {
			t.Errorf("%q: exit %d (want %d)\nstdout %q\nstderr %q", tc.args, code, tc.code, stdout, stderr)
		}
	}
}

// clientTestEnv is an env with buffers, the given environment variables, and a
// terminal whose password prompts answer from answers in turn.
func clientTestEnv(vars map[string]string, terminal bool, answers ...string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:      strings.NewReader(""),
		stdout:     &stdout,
		stderr:     &stderr,
		getenv:     func(k string) string { return vars[k] },
		isTerminal: func() bool { return terminal },
		readPassword: func(prompt string) (string, error) {
			stderr.WriteString(prompt + "\n")
			if len(answers) == 0 {
				return "", errors.New("no more answers")
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		},
	}
	return e, &stdout, &stderr
}

// testInvocation is the invocation of the client command at path, as run
// sets it up, for tests of its helpers.
func testInvocation(t *testing.T, path ...string) *invocation {
	t.Helper()
	e, _, _ := clientTestEnv(nil, false)
	c, _, err := newRoot(e, nil).Find(path)
	if err != nil || c.Name() != path[len(path)-1] {
		t.Fatalf("no command %q: %v", path, err)
	}
	return &invocation{cmd: c, client: &clientFlags{}}
}
