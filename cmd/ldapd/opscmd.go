package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin/output"
	"github.com/ldapd/ldapd/internal/cli"
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

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version and commit",
		Long: `
Print the version, the VCS commit it was built from (from the Go build
information, or -ldflags "-X main.commit=..." as the Makefile sets it), and
the Go version and platform. ldapd --version prints the same.`,
		Example: cli.Examples("ldapd version", "ldapd --version"),
		Args:    cli.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, versionString())
			return err
		},
	}
}

// healthcheckFlags are the flags of ldapd healthcheck.
type healthcheckFlags struct {
	url, config, metrics string
	live                 bool
	timeout              time.Duration
}

func healthcheckCmd(e *env) *cobra.Command {
	var o healthcheckFlags
	c := &cobra.Command{
		Use:   "healthcheck [--url URL | --metrics ADDR | --config FILE] [--live] [--timeout D]",
		Short: "ask a running server's /readyz (exit 0 or 1), for container health checks",
		Long: `
Ask a running server's metrics listener whether it is ready (GET /readyz:
the store answers and the LDAP listeners are up) or, with --live, alive (GET
/healthz), and exit 0 if it answers 200, 1 otherwise. For container
runtimes whose images have no curl (a Docker HEALTHCHECK, a Kubernetes exec
probe). The server must run with --metrics; the address comes from --url,
--metrics (LDAPD_METRICS) or the metrics key of --config (LDAPD_CONFIG).`,
		Example: cli.Examples(
			"ldapd healthcheck --url http://127.0.0.1:9090",
			"LDAPD_METRICS=127.0.0.1:9090 ldapd healthcheck --live",
			"ldapd healthcheck --config /etc/ldapd/ldapd.toml",
			`# Dockerfile: HEALTHCHECK CMD ["ldapd", "healthcheck", "--metrics", "127.0.0.1:9090"]`),
		Annotations: map[string]string{cli.AnnotationExit: "0 ready (or alive), 1 not ready or unreachable, 2 bad arguments."},
		Args:        cli.NoArgs,
		RunE:        func(c *cobra.Command, _ []string) error { return runHealthcheck(c.Context(), e, &o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.url, "url", "", "URL to GET; a URL without a path gets /readyz (or /healthz with --live); default: the --metrics address (env LDAPD_HEALTHCHECK_URL)")
	fs.BoolVar(&o.live, "live", false, "check /healthz (the process answers) instead of /readyz (store open, listeners up)")
	fs.StringVar(&o.config, "config", "", "the server's TOML configuration, to read its metrics address (env LDAPD_CONFIG)")
	fs.StringVar(&o.metrics, "metrics", "", "the server's --metrics address (env LDAPD_METRICS)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "give up after this long")
	cli.BindEnv(fs, "url", "LDAPD_HEALTHCHECK_URL")
	cli.BindEnv(fs, "config", "LDAPD_CONFIG")
	cli.BindEnv(fs, "metrics", "LDAPD_METRICS")
	return c
}

func runHealthcheck(ctx context.Context, e *env, o *healthcheckFlags) error {
	path := "/readyz"
	if o.live {
		path = "/healthz"
	}
	target := o.url
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
		addr := o.metrics
		if addr == "" && o.config != "" {
			var cfg serveConfig
			if err := applyConfigFile(serveFlags(&cfg), o.config, "config"); err != nil {
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
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
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

func completionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print a shell completion script (bash, zsh, fish or powershell)",
		Long: `
Print a shell completion script for ldapd's commands, subcommands and
flags, generated by cobra from ldapd's own command tree: the script asks
ldapd itself (ldapd __complete ...) what to complete, so it stays in step
with the installed binary. Load it in the current shell, or install it
where the shell looks for completions.`,
		Example: cli.Examples(
			"source <(ldapd completion bash)",
			"ldapd completion bash > /etc/bash_completion.d/ldapd",
			`ldapd completion zsh > "${fpath[1]}/_ldapd"     # then: compinit`,
			"ldapd completion fish > ~/.config/fish/completions/ldapd.fish",
			"ldapd completion powershell | Out-String | Invoke-Expression"),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(c.ValidArgs, args[0]) {
				return cli.UsageError(c, "want one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(e.stdout, true)
			case "zsh":
				return root.GenZshCompletion(e.stdout)
			case "fish":
				return root.GenFishCompletion(e.stdout, true)
			}
			return root.GenPowerShellCompletionWithDesc(e.stdout)
		},
	}
}

// completeValues registers the values the shells offer for the flags that
// take one of a few words.
func completeValues(c *cobra.Command) {
	visit := func(f *pflag.Flag) {
		var values []string
		switch f.Name {
		case "output":
			if c.PersistentFlags().Lookup("output") == f { // the client commands' format, not export's file
				values = []string{output.FormatText, output.FormatJSON}
			}
		case "store", "to":
			values = []string{storeBolt, storeEtcd}
		case "log-level":
			values = []string{"debug", "info", "warn", "error"}
		case "log-format":
			values = []string{"auto", "json", "console"}
		case "anonymous-read":
			values = []string{"public", "posix", "none"}
		case "tls-key-exchange":
			values = []string{"hybrid", "classical"}
		case "etcd-consistency":
			values = []string{"view", "linearizable", "direct"}
		}
		if values != nil {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	c.Flags().VisitAll(visit)
	c.PersistentFlags().VisitAll(visit)
}
