package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// This file holds the operator's commands: version, healthcheck and
// completion.

// commit is the VCS commit, set at build time with -ldflags
// "-X main.commit=..." when the build info has none (go build
// -buildvcs=false, or a build outside a git checkout).
var commit = ""

// versionString is "ldapd VERSION (commit C[, modified], GOVERSION)".
func versionString() string {
	v, c, modified := version, commit, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version // go install module@version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if modified {
		c += ", modified"
	}
	return fmt.Sprintf("ldapd %s (commit %s, %s %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func runVersionCmd(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd version
       ldapd --version

Print the version, the VCS commit it was built from (from the Go build
information, or -ldflags "-X main.commit=..." as the Makefile sets it), and
the Go version and platform.

Examples:
  ldapd version
  ldapd --version

Flags:
  -h, --help  show this help
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	fmt.Fprintln(e.stdout, versionString())
	return nil
}

func runHealthcheck(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	url := fs.String("url", e.getenv("LDAPD_HEALTHCHECK_URL"), "URL to GET; a URL without a path gets /readyz (or /healthz with --live); default: the --metrics address (env LDAPD_HEALTHCHECK_URL)")
	live := fs.Bool("live", false, "check /healthz (the process answers) instead of /readyz (store open, listeners up)")
	config := fs.String("config", e.getenv("LDAPD_CONFIG"), "the server's TOML configuration, to read its metrics address (env LDAPD_CONFIG)")
	metricsAddr := fs.String("metrics", e.getenv("LDAPD_METRICS"), "the server's --metrics address (env LDAPD_METRICS)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd healthcheck [--url URL | --metrics ADDR | --config FILE] [--live] [--timeout D]

Ask a running server's metrics listener whether it is ready (GET /readyz:
the store answers and the LDAP listeners are up) or, with --live, alive (GET
/healthz), and exit 0 if it answers 200, 1 otherwise. For container
runtimes whose images have no curl (a Docker HEALTHCHECK, a Kubernetes exec
probe). The server must run with --metrics; the address comes from --url,
--metrics (LDAPD_METRICS) or the metrics key of --config (LDAPD_CONFIG).

Examples:
  ldapd healthcheck --url http://127.0.0.1:9090
  LDAPD_METRICS=127.0.0.1:9090 ldapd healthcheck --live
  ldapd healthcheck --config /etc/ldapd/ldapd.toml
  # Dockerfile: HEALTHCHECK CMD ["ldapd", "healthcheck", "--metrics", "127.0.0.1:9090"]

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(e.stderr, "\nExit status:\n  0 ready (or alive), 1 not ready or unreachable, 2 bad arguments.\n")
	}
	rest, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q: %w", rest[0], errUsage)
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	target := *url
	if target != "" {
		u, err := neturl.Parse(target)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("--url %q: want http://HOST:PORT[/PATH]: %w", target, errUsage)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = path // --url http://127.0.0.1:9090 means its /readyz
		}
		target = u.String()
	} else {
		addr := *metricsAddr
		if addr == "" && *config != "" {
			var cfg serveConfig
			sfs := serveFlags(&env{stderr: io.Discard, getenv: func(string) string { return "" }}, &cfg)
			if err := applyConfigFile(e, sfs, *config, "config"); err != nil {
				return err
			}
			addr = cfg.metrics
		}
		if addr == "" {
			return fmt.Errorf("no address: give --url, --metrics (LDAPD_METRICS) or --config with a metrics key: %w", errUsage)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("metrics address %q: %v: %w", addr, err, errUsage)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		target = "http://" + net.JoinHostPort(host, port) + path
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	msg := strings.TrimSpace(string(body))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", target, res.Status, msg)
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", target, msg)
	return nil
}

// cmdNode is a command of the tree as its --help describes it.
type cmdNode struct {
	path  []string // ["service-account", "api-token", "generate"]
	help  string   // what --help printed (stdout and stderr)
	subs  []string // subcommands, for a group
	flags []string // long flag names, for a leaf
}

var (
	subcommandLine = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s`)
	flagLine       = regexp.MustCompile(`^  (?:-[a-zA-Z], )?--?([a-z][a-z0-9-]+)\b`)
)

// commandTree runs --help on every command and subcommand, starting from
// commands(), and returns them in order: the command table and each group's
// subcommand table are the only source, so the tree (and completion) stays
// in step with them.
func commandTree(ctx context.Context) []cmdNode {
	var out []cmdNode
	var walk func(path []string)
	walk = func(path []string) {
		var buf bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &buf, stderr: &buf, getenv: func(string) string { return "" },
			isTerminal: func() bool { return false }}
		run(ctx, e, append(append([]string{}, path...), "--help"))
		n := cmdNode{path: path, help: buf.String()}
		section := ""
		for _, line := range strings.Split(n.help, "\n") {
			if line != "" && line[0] != ' ' && line[0] != '\t' {
				section = strings.TrimSuffix(line, ":")
				continue
			}
			switch section {
			case "Subcommands":
				if m := subcommandLine.FindStringSubmatch(line); m != nil {
					n.subs = append(n.subs, m[1])
				}
			case "Flags":
				if m := flagLine.FindStringSubmatch(line); m != nil && m[1] != "help" {
					n.flags = append(n.flags, m[1])
				}
			}
		}
		out = append(out, n)
		for _, s := range n.subs {
			walk(append(append([]string{}, path...), s))
		}
	}
	for _, c := range commands() {
		walk([]string{c.name})
	}
	return out
}

func runCompletion(ctx context.Context, e *env, args []string) error {
	help := func() {
		fmt.Fprint(e.stdout, `Usage: ldapd completion bash|zsh

Print a shell completion script for ldapd's commands, subcommands and
flags, generated from ldapd's own command table. Load it in the current
shell, or install it where the shell looks for completions.

Examples:
  source <(ldapd completion bash)
  ldapd completion bash > /etc/bash_completion.d/ldapd
  ldapd completion zsh > "${fpath[1]}/_ldapd"     # then: compinit

Flags:
  -h, --help  show this help
`)
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		help()
		return errHelpShown
	}
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return fmt.Errorf("want one shell, bash or zsh: %w", errUsage)
	}
	script := bashCompletion(commandTree(ctx))
	if args[0] == "zsh" {
		script = "#compdef ldapd\n# zsh completion for ldapd (the bash completion through bashcompinit).\nautoload -U +X bashcompinit && bashcompinit\n" + script
	}
	_, err := io.WriteString(e.stdout, script)
	return err
}

// bashCompletion writes the bash completion function for the tree.
func bashCompletion(tree []cmdNode) string {
	var b strings.Builder
	var top, nodes []string
	for _, c := range commands() {
		top = append(top, c.name)
	}
	for _, n := range tree {
		nodes = append(nodes, `"`+strings.Join(n.path, " ")+`"`)
	}
	sort.Strings(nodes)
	b.WriteString("# bash completion for ldapd, generated by 'ldapd completion bash'.\n")
	b.WriteString("_ldapd_node() {\n\tcase \"$1\" in\n\t" + strings.Join(nodes, "|") + ") return 0 ;;\n\tesac\n\treturn 1\n}\n\n")
	b.WriteString(`_ldapd() {
	local cur="${COMP_WORDS[COMP_CWORD]}" path="" w i words="" flags=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		w="${COMP_WORDS[i]}"
		[[ $w == -* ]] && continue
		if _ldapd_node "${path:+$path }$w"; then path="${path:+$path }$w"; fi
	done
	case "$path" in
`)
	fmt.Fprintf(&b, "\t\"\") words=%q; flags=\"--help --version\" ;;\n", strings.Join(top, " "))
	for _, n := range tree {
		var flags []string
		for _, f := range n.flags {
			flags = append(flags, "--"+f)
		}
		flags = append(flags, "--help")
		fmt.Fprintf(&b, "\t%q) words=%q; flags=%q ;;\n", strings.Join(n.path, " "), strings.Join(n.subs, " "), strings.Join(flags, " "))
	}
	b.WriteString(`	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	elif [[ -n $words ]]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	fi
}
complete -o default -F _ldapd ldapd
`)
	return b.String()
}
