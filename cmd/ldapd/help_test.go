package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHelp runs --help on every command and subcommand of the
// tree and checks each is a manual: a usage line, a description, and for a
// command that runs (not a group of subcommands) its flags and examples;
// -h works the same.
func TestEveryCommandHelp(t *testing.T) {
	var paths [][]string
	groups := map[string]bool{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, s := range c.Commands() {
			p := append(append([]string{}, path...), s.Name())
			paths = append(paths, p)
			groups[strings.Join(p, " ")] = s.HasSubCommands()
			walk(s, p)
		}
	}
	walk(newRoot(&env{}, nil), nil)
	if len(paths) < 30 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, path := range paths {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				var out bytes.Buffer
				e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" },
					isTerminal: func() bool { return false }}
				if code := run(context.Background(), e, append(append([]string{}, path...), h)); code != 0 {
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
				if groups[name] {
					continue // a group lists its subcommands, each checked on its own
				}
				for _, want := range []string{"\nFlags:\n", "  -h, --help ", "\nExit status:\n"} {
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

// TestCompletion checks the scripts cobra generates (bash parses, and
// each names ldapd and asks it for completions) and the completions ldapd
// gives them: subcommands, flags after positionals or a flag of the group,
// and flag values.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, []string{"completion", shell}); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", shell, code, out.String())
		}
		if !strings.Contains(out.String(), "ldapd __complete") && !strings.Contains(out.String(), "__complete") {
			t.Errorf("completion %s does not call ldapd __complete:\n%.300s", shell, out.String())
		}
		if shell == "zsh" && !strings.HasPrefix(out.String(), "#compdef ldapd\n") {
			t.Errorf("completion zsh: %.40q...", out.String())
		}
		if shell != "bash" {
			continue
		}
		if !strings.Contains(out.String(), "complete -o default -F __start_ldapd ldapd") {
			t.Errorf("the bash script does not register itself for ldapd")
		}
		if _, err := exec.LookPath("bash"); err != nil {
			t.Log("no bash: the script is not parsed")
			continue
		}
		check := exec.Command("bash", "-n")
		check.Stdin = &out
		if msg, err := check.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, msg)
		}
	}
	for _, c := range []struct {
		words []string // after ldapd; the last word is being completed
		want  []string
	}{
		{[]string{""}, []string{"serve", "service-account", "completion", "recover-account"}},
		{[]string{"service-account", "api-token", "ge"}, []string{"generate"}},
		{[]string{"service-account", "--name", "x", "api-token", "d"}, []string{"destroy"}},
		{[]string{"serve", "--met"}, []string{"--metrics"}},
		{[]string{"serve", "--password-cache"}, []string{"--password-cache-ttl", "--password-cache-size"}},
		{[]string{"service-account", "api-token", "generate", "svc", "--r"}, []string{"--rw"}},
		{[]string{"healthcheck", "--"}, []string{"--url", "--live"}},
		{[]string{"--v"}, []string{"--version"}},
		{[]string{"group", "get", "g", "-o", ""}, []string{"text", "json"}},
		{[]string{"export", "-o", ""}, []string{":0"}}, // a file name: the shell's own completion
		{[]string{"serve", "--store", ""}, []string{"bolt", "etcd"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
	} {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, append([]string{cobra.ShellCompNoDescRequestCmd}, c.words...)); code != 0 {
			t.Fatalf("%q: exit %d", c.words, code)
		}
		got := strings.Split(strings.TrimSpace(out.String()), "\n")
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q = %q, want it to contain %q", c.words, got, w)
			}
		}
	}
}

// TestCompletionBashScript loads the bash script into bash with the built
// binary on PATH and completes a command line, as a shell would. The
// script needs _get_comp_words_by_ref of the bash-completion package;
// without the package a minimal stand-in is loaded.

func TestCompletionBashScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	bin := buildLdapd(t)
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string // the command line, completed at its end
		want string
	}{
		{"ldapd service-account api-token ge", "generate"},
		{"ldapd serve --met", "--metrics"},
		{"ldapd person create --name x demo_user --", "--password-file"},
	} {
		words := strings.Fields(c.line)
		if strings.HasSuffix(c.line, " ") {
			words = append(words, "")
		}
		prog := bashCompletionLib + string(script) + "\nCOMP_LINE='" + c.line + "'\nCOMP_POINT=${#COMP_LINE}\nCOMP_WORDS=(" + strings.Join(words, " ") +
			")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n__start_ldapd\necho \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command("bash", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if !slices.Contains(strings.Fields(string(out)), c.want) {
			t.Errorf("completing %q = %q, want %q", c.line, out, c.want)
		}
	}
}

// bashCompletionLib loads the bash-completion package, or defines the one
// function of it that cobra's script calls.
const bashCompletionLib = `
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
	. /usr/share/bash-completion/bash_completion
else
	_get_comp_words_by_ref() {
		cur="${COMP_WORDS[COMP_CWORD]}"
		prev="${COMP_WORDS[COMP_CWORD-1]}"
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
fi
`
