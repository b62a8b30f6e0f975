package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEveryCommandHelp runs --help on every command and subcommand found
// from the command table (commandTree) and checks each is a manual: a
// usage line, a description, and for a command that runs (not a group of
// subcommands) its flags and examples; -h and "help" work the same.
func TestEveryCommandHelp(t *testing.T) {
	tree := commandTree(context.Background())
	if len(tree) < 20 {
		t.Fatalf("only %d commands found", len(tree))
	}
	for _, n := range tree {
		name := strings.Join(n.path, " ")
		t.Run(name, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				var out bytes.Buffer
				e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" },
					isTerminal: func() bool { return false }}
				if code := run(context.Background(), e, append(append([]string{}, n.path...), h)); code != 0 {
					t.Fatalf("%s %s: exit %d:\n%s", name, h, code, out.String())
				}
				help := out.String()
				if !strings.HasPrefix(help, "Usage: ldapd "+name) {
					t.Errorf("%s: help does not start with the usage line %q:\n%s", h, "Usage: ldapd "+name, help)
				}
				paras := strings.Split(help, "\n\n")
				if len(paras) < 2 || len(strings.TrimSpace(paras[1])) < 15 {
					t.Errorf("%s: no description paragraph after the usage line:\n%s", h, help)
				}
				if n.subs != nil {
					continue // a group lists its subcommands, each checked on its own
				}
				for _, want := range []string{"\nFlags:\n"} {
					if !strings.Contains(help, want) {
						t.Errorf("%s: help lacks %q:\n%s", h, want, help)
					}
				}
				if !regexp.MustCompile(`\nExamples?:\n(  .*\n)*  .*\bldapd `).MatchString(help) {
					t.Errorf("%s: help has no examples:\n%s", h, help)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, args); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !regexp.MustCompile(`^ldapd \S+ \(commit \S+.*, go1\.\S+ \S+/\S+\)\n$`).MatchString(out.String()) {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
}

// TestVersionLdflags builds the binary as the Makefile does and checks the
// version and commit it prints.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := t.TempDir() + "/ldapd"
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123abcd", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "ldapd v9.8.7 (commit 0123abcd, go") {
		t.Errorf("ldapd --version = %q", out)
	}
}

// TestCompletionBash loads the generated script into bash and completes
// a few command lines with it.
func TestCompletionBash(t *testing.T) {
	var script bytes.Buffer
	e := &env{stdout: &script, stderr: &script, getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"completion", "bash"}); code != 0 {
		t.Fatalf("exit %d: %s", code, script.String())
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, c := range []struct {
		words []string // the command line; the last word is being completed
		want  string
	}{
		{[]string{"ldapd", ""}, "serve"},
		{[]string{"ldapd", ""}, "service-account"},
		{[]string{"ldapd", ""}, "completion"},
		{[]string{"ldapd", "service-account", "api-token", "ge"}, "generate"},
		{[]string{"ldapd", "service-account", "--name", "x", "api-token", "d"}, "destroy"},
		{[]string{"ldapd", "serve", "--met"}, "--metrics"},
		{[]string{"ldapd", "service-account", "api-token", "generate", "--r"}, "--rw"},
		{[]string{"ldapd", "healthcheck", "--"}, "--url"},
		{[]string{"ldapd", "--v"}, "--version"},
	} {
		var words strings.Builder
		for _, w := range c.words {
			words.WriteString(" '" + w + "'")
		}
		prog := script.String() + "\nCOMP_WORDS=(" + words.String() + ")\nCOMP_CWORD=" + strconv.Itoa(len(c.words)-1) + "\n_ldapd\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); !strings.Contains(got, c.want) {
			t.Errorf("completing %q = %q, want it to contain %q", c.words, got, c.want)
		}
	}
	var zsh bytes.Buffer
	e = &env{stdout: &zsh, stderr: &zsh, getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"completion", "zsh"}); code != 0 || !strings.HasPrefix(zsh.String(), "#compdef ldapd\n") {
		t.Errorf("completion zsh: exit %d, %q...", code, zsh.String()[:min(40, zsh.Len())])
	}
}
