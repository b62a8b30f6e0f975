package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func clientTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("name", "", "")
	fs.String("output", "", "")
	fs.String("o", "", "")
	fs.Bool("rw", false, "")
	return fs
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		flags   []string
		pos     []string
		help    bool
		wantErr string
	}{
		{"flags first (seed)", []string{"--name", "demo_user", "demo_service"},
			[]string{"--name=demo_user"}, []string{"demo_service"}, false, ""},
		{"flags last (seed)", []string{"demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin"},
			[]string{"--name=idm_admin"}, []string{"demo_service", "Demonstration Service", "demo_group"}, false, ""},
		{"interleaved with bool", []string{"--name", "u", "svc", "Test Token", "2020-09-25T11:22:02+10:00", "--rw"},
			[]string{"--name=u", "--rw"}, []string{"svc", "Test Token", "2020-09-25T11:22:02+10:00"}, false, ""},
		{"bool does not take the next argument", []string{"--rw", "svc"},
			[]string{"--rw"}, []string{"svc"}, false, ""},
		{"bool with value", []string{"--rw=false", "svc"},
			[]string{"--rw=false"}, []string{"svc"}, false, ""},
		{"equals form", []string{"svc", "--name=idm_admin"},
			[]string{"--name=idm_admin"}, []string{"svc"}, false, ""},
		{"single dash", []string{"-name", "x", "-o", "json", "svc"},
			[]string{"--name=x", "--o=json"}, []string{"svc"}, false, ""},
		{"value that looks like a flag", []string{"--name", "--rw"},
			[]string{"--name=--rw"}, nil, false, ""},
		{"empty value", []string{"--name", "", "svc"},
			[]string{"--name="}, []string{"svc"}, false, ""},
		{"double dash ends flags", []string{"--name", "x", "--", "-svc", "--rw"},
			[]string{"--name=x"}, []string{"-svc", "--rw"}, false, ""},
		{"lone dash is positional", []string{"-"}, nil, []string{"-"}, false, ""},
		{"help long", []string{"svc", "--help"}, nil, []string{"svc"}, true, ""},
		{"help short", []string{"-h"}, nil, nil, true, ""},
		{"help wins over unknown flag", []string{"--bogus", "--help"}, nil, nil, true, "unknown flag --bogus"},
		{"unknown flag", []string{"svc", "--password", "secret"}, nil, []string{"svc", "secret"}, false, "unknown flag --password"},
		{"missing value", []string{"svc", "--name"}, nil, []string{"svc"}, false, "flag --name needs a value"},
		{"triple dash", []string{"---name", "x"}, nil, []string{"x"}, false, `bad flag syntax "---name"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags, pos, help, err := splitArgs(clientTestFlagSet(), tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if help != tc.help {
				t.Errorf("help = %v", help)
			}
			if tc.wantErr == "" && !slices.Equal(flags, tc.flags) {
				t.Errorf("flags = %q, want %q", flags, tc.flags)
			}
			if tc.wantErr == "" && !slices.Equal(pos, tc.pos) {
				t.Errorf("positionals = %q, want %q", pos, tc.pos)
			}
		})
	}
}

// The normalized flags parse with the standard flag package.
func TestSplitArgsThenParse(t *testing.T) {
	fs := clientTestFlagSet()
	flags, pos, _, err := splitArgs(fs, []string{"demo_service", "--name", "demo_user", "Test Token", "--rw", "-o", "json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(flags); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("name").Value.String(); got != "demo_user" {
		t.Errorf("name = %q", got)
	}
	if got := fs.Lookup("rw").Value.String(); got != "true" {
		t.Errorf("rw = %q", got)
	}
	if got := fs.Lookup("o").Value.String(); got != "json" {
		t.Errorf("o = %q", got)
	}
	if !slices.Equal(pos, []string{"demo_service", "Test Token"}) {
		t.Errorf("positionals %q", pos)
	}
}

func TestInvocationParse(t *testing.T) {
	spec := &cmdSpec{group: "g", sub: "s", usage: "A [B] --name NAME", min: 1, max: 2,
		args: [][2]string{{"A", "a"}, {"B", "b"}}}
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success; "help" for errHelpShown
		output  string
	}{
		{"ok", []string{"a", "--name", "n"}, "", "text"},
		{"ok with optional and json", []string{"-o", "json", "a", "b", "--name=n"}, "", "json"},
		{"missing positional", []string{"--name", "n"}, "s: missing A\nusage: ldapd g s A [B] --name NAME\n(see ldapd g s --help)", ""},
		{"too many", []string{"a", "b", "c", "d", "--name", "n"}, `s: too many arguments: "c" "d"`, ""},
		{"no name", []string{"a"}, "s: --name NAME is required", ""},
		{"bad output", []string{"a", "--name", "n", "--output", "yaml"}, `s: unknown output format "yaml": want text or json`, ""},
		{"flag of another command", []string{"a", "--name", "n", "--rw"}, "s: unknown flag --rw", ""},
		{"help", []string{"a", "--help"}, "help", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := clientTestEnv(nil, false)
			inv := newInvocation(spec)
			err := inv.parse(e, tc.args)
			switch {
			case tc.wantErr == "":
				if err != nil {
					t.Fatal(err)
				}
				if inv.client.output != tc.output {
					t.Errorf("output = %q", inv.client.output)
				}
			case tc.wantErr == "help":
				if !errors.Is(err, errHelpShown) {
					t.Errorf("err = %v", err)
				}
			default:
				if !errors.Is(err, errUsage) || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Errorf("err = %q, want a usage error starting %q", err, tc.wantErr)
				}
			}
		})
	}
}

func TestDispatch(t *testing.T) {
	ran := ""
	subs := []subcommand{{"one", "the first", func(_ context.Context, _ *env, args []string) error {
		ran = strings.Join(args, ",")
		return nil
	}}}
	e, stdout, _ := clientTestEnv(nil, false)
	if err := dispatch(context.Background(), e, "grp", "Desc.", subs, []string{"one", "a", "--b"}); err != nil || ran != "a,--b" {
		t.Errorf("err %v, ran %q", err, ran)
	}
	for _, args := range [][]string{nil, {"two"}, {"--name", "x", "one"}} {
		err := dispatch(context.Background(), e, "grp", "Desc.", subs, args)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "usage: ldapd grp SUBCOMMAND [ARGS] [FLAGS] (one of: one;") {
			t.Errorf("dispatch(%q) = %v", args, err)
		}
	}
	for _, h := range []string{"help", "-h", "--help"} {
		stdout.Reset()
		err := dispatch(context.Background(), e, "grp", "Desc.", subs, []string{h})
		if !errors.Is(err, errHelpShown) || !strings.Contains(stdout.String(), "Usage: ldapd grp SUBCOMMAND") ||
			!strings.Contains(stdout.String(), "  one  the first") {
			t.Errorf("help %s: %v\n%s", h, err, stdout)
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
