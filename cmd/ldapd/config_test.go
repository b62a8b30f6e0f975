package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/cli"
)

// loadServeConfig does what runServe does before starting: parse the
// flags (whose defaults come from the environment), then apply --config.
func loadServeConfig(t *testing.T, args []string, environ map[string]string, file string) (serveConfig, error) {
	t.Helper()
	if file != "" {
		path := filepath.Join(t.TempDir(), "ldapd.toml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", path}, args...)
	}
	e := &env{stderr: io.Discard, getenv: func(k string) string { return environ[k] },
		lookupEnv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok }}
	var cfg serveConfig
	fs := serveFlags(&cfg)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(e, fs); err != nil {
		return cfg, err
	}
	return cfg, applyConfigFile(fs, cfg.ConfigFile, "config")
}

// TestConfigTypes sets serve options of each kind from a file (the
// precedence over flags and variables is internal/cli's TestFileTypes).
func TestConfigTypes(t *testing.T) {
	cfg, err := loadServeConfig(t, nil, nil, `
data = "/var/lib/ldapd"
domain = "idm.example.com"
"log-level" = "debug"
allow-insecure-bind = true
metrics = "127.0.0.1:9090"
tls-key-exchange = "classical"
max-connections = 100
idle-timeout = "90s"
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data != "/var/lib/ldapd" || cfg.Domain != "idm.example.com" || cfg.LogLevel != "debug" || !cfg.AllowInsecureBind || cfg.Metrics != "127.0.0.1:9090" ||
		cfg.TLSKeyExchange != "classical" {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg.Limits.MaxConnections != 100 || cfg.Limits.IdleTimeout.Seconds() != 90 {
		t.Errorf("limits = %+v", cfg.Limits)
	}
}

// TestConfigErrors: the checks of ldapd's option values run on the file
// too, with the line (the file's own errors are internal/cli's tests).
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want       string // in the error, after "config PATH "
	}{
		{"config in config", "config = \"other.toml\"\n", `line 1: config: unknown key`},
		{"bad level", "\n\nlog-level = \"loud\"\n", `line 3: log-level: invalid value "loud": want debug, info, warn or error`},
		{"bad format", "log-format = \"xml\"\n", `line 1: log-format: invalid value "xml": want auto, json or console`},
		{"bad address", "metrics = \"9090\"\n", `line 1: metrics: invalid address "9090"`},
		{"bad key exchange", "tls-key-exchange = \"pq\"\n", `line 1: tls-key-exchange: invalid value "pq": want hybrid or classical`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadServeConfig(t, nil, nil, tt.file)
			var ce *cli.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a cli.ConfigError", err)
			}
			if !strings.Contains(err.Error(), "ldapd.toml "+tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	// A bad value is refused even when the flag overrides it: the file is
	// wrong and the operator should know.
	if _, err := loadServeConfig(t, []string{"--log-level", "info"}, nil, "log-level = \"loud\"\n"); err == nil {
		t.Error("a bad value overridden by a flag was accepted")
	}
	if _, err := loadServeConfig(t, nil, nil, ""); err != nil {
		t.Errorf("no --config: %v", err)
	}
}

// TestConfigDocumented checks that every serve option follows the naming
// rule the file relies on (env LDAPD_<NAME>) and has its flag, variable
// and key in docs/configuration.md.
func TestConfigDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var cfg serveConfig
	serveFlags(&cfg).VisitAll(func(f *pflag.Flag) {
		env := cli.EnvName(f.Name)
		if !strings.Contains(f.Usage, "env "+env) {
			t.Errorf("--%s: usage %q does not name its variable %s", f.Name, f.Usage, env)
		}
		row := "| `--" + f.Name + "` | `" + env + "` | `" + f.Name + "` |"
		if f.Name == "config" {
			row = "| `--config` | `LDAPD_CONFIG` | (none) |"
		}
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/configuration.md lacks the row %q", row)
		}
	})
}

// TestEnvEmptyDisablesListener: a variable set to the empty string counts
// as set, so LDAPD_LDAPS= and LDAPD_LDAP= disable their listeners over
// the file and the defaults (issue #19 item 3).
func TestEnvEmptyDisablesListener(t *testing.T) {
	file := "ldaps = \"127.0.0.1:1636\"\nldap = \"127.0.0.1:1389\"\nmetrics = \"127.0.0.1:9090\"\n"
	cfg, err := loadServeConfig(t, nil, map[string]string{"LDAPD_LDAPS": "", "LDAPD_LDAP": "", "LDAPD_METRICS": ""}, file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LDAPS != "" || cfg.LDAP != "" || cfg.Metrics != "" {
		t.Errorf("ldaps %q ldap %q metrics %q: want all disabled by the empty variables", cfg.LDAPS, cfg.LDAP, cfg.Metrics)
	}
	// Without the file: the defaults are overridden too.
	cfg, err = loadServeConfig(t, nil, map[string]string{"LDAPD_LDAPS": ""}, "")
	if err != nil || cfg.LDAPS != "" || cfg.LDAP != ":3389" {
		t.Errorf("ldaps %q ldap %q err %v: want LDAPS disabled, LDAP at its default", cfg.LDAPS, cfg.LDAP, err)
	}
	// A variable not set at all leaves the file's value.
	cfg, err = loadServeConfig(t, nil, map[string]string{}, file)
	if err != nil || cfg.LDAPS != "127.0.0.1:1636" {
		t.Errorf("ldaps %q err %v: want the file's value", cfg.LDAPS, err)
	}
}

// TestEnvInvalidRefused: an environment value the option does not take
// stops start-up naming the variable, instead of falling back to the
// default and hiding the file's value (issue #19 item 4).
func TestEnvInvalidRefused(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"LDAPD_IDLE_TIMEOUT", "1", `environment LDAPD_IDLE_TIMEOUT: invalid value "1"`},
		{"LDAPD_MAX_FILTER_DEPTH", "abc", `environment LDAPD_MAX_FILTER_DEPTH: invalid value "abc"`},
		{"LDAPD_MAX_FILTER_DEPTH", "", `environment LDAPD_MAX_FILTER_DEPTH: set but empty`},
		{"LDAPD_IDLE_TIMEOUT", "", `environment LDAPD_IDLE_TIMEOUT: set but empty`},
		{"LDAPD_ALLOW_INSECURE_BIND", "yes", `environment LDAPD_ALLOW_INSECURE_BIND: invalid value "yes"`},
		{"LDAPD_LOG_LEVEL", "loud", `environment LDAPD_LOG_LEVEL: invalid value "loud"`},
		{"LDAPD_UID_RANGE", "5-1", `environment LDAPD_UID_RANGE: invalid id range "5-1"`},
		{"LDAPD_STORE", "mysql", `environment LDAPD_STORE: invalid value "mysql": want bolt or etcd`},
		{"LDAPD_LDAPS", "636", `environment LDAPD_LDAPS: invalid address "636"`},
		{"LDAPD_DATA", "", `environment LDAPD_DATA: empty`},
		{"LDAPD_ANONYMOUS_READ", "all", `environment LDAPD_ANONYMOUS_READ: `},
		{"LDAPD_BASE_DN", "not a dn", `environment LDAPD_BASE_DN: `},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadServeConfig(t, nil, map[string]string{tt.name: tt.value}, "idle-timeout = \"1s\"\nmax-filter-depth = 8\n")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
	// Valid values win over the file.
	cfg, err := loadServeConfig(t, nil, map[string]string{"LDAPD_IDLE_TIMEOUT": "2s", "LDAPD_MAX_FILTER_DEPTH": "9"}, "idle-timeout = \"1s\"\nmax-filter-depth = 8\n")
	if err != nil || cfg.Limits.IdleTimeout.String() != "2s" || cfg.Limits.MaxFilterDepth != 9 {
		t.Errorf("idle %v depth %d err %v: want the environment's 2s and 9", cfg.Limits.IdleTimeout, cfg.Limits.MaxFilterDepth, err)
	}
	// Without the variable, the file's 1s holds (not the 5m default).
	cfg, err = loadServeConfig(t, nil, nil, "idle-timeout = \"1s\"\n")
	if err != nil || cfg.Limits.IdleTimeout.String() != "1s" {
		t.Errorf("idle %v err %v: want the file's 1s", cfg.Limits.IdleTimeout, err)
	}
	// A bad flag is refused the same way, naming the flag.
	if _, err := loadServeConfig(t, []string{"--uid-range", "0-5"}, nil, ""); err == nil || !strings.Contains(err.Error(), "--uid-range") {
		t.Errorf("--uid-range 0-5: err = %v", err)
	}
}

// TestConfigRangeAndStoreChecked: uid-range, gid-range and store errors in
// the file give the line, and are reported even when a flag or variable
// overrides them (issue #19 item 9).
func TestConfigRangeAndStoreChecked(t *testing.T) {
	tests := []struct {
		file string
		args []string
		env  map[string]string
		want string
	}{
		{"data = \"x\"\nuid-range = \"10-5\"\n", nil, nil, `line 2: uid-range: invalid id range "10-5"`},
		{"gid-range = \"x\"\n", []string{"--gid-range", "20000-30000"}, nil, `line 1: gid-range: invalid id range "x"`},
		{"\nstore = \"mysql\"\n", nil, map[string]string{"LDAPD_STORE": "bolt"}, `line 2: store: invalid value "mysql": want bolt or etcd`},
		{"idle-timeout = \"1\"\n", []string{"--idle-timeout", "1s"}, nil, `line 1: idle-timeout: invalid value "1"`},
	}
	for _, tt := range tests {
		_, err := loadServeConfig(t, tt.args, tt.env, tt.file)
		var ce *cli.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q %v %v: err = %v, want a cli.ConfigError containing %q", tt.file, tt.args, tt.env, err, tt.want)
		}
	}
}

// TestServeSourcesThroughRun: the precedence holds on the real command
// line path (run -> cobra -> applyEnv -> applyConfigFile). Each case stops
// before anything is opened, at a check whose message shows which source
// won.
func TestServeSourcesThroughRun(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	config := filepath.Join(dir, "ldapd.toml")
	for _, f := range []struct{ path, content string }{{notDir, "x"}, {config, "tls-key = \"k.pem\"\n"}} {
		if err := os.WriteFile(f.path, []byte(f.content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		code    int
		want    string
	}{
		{"env is read", nil, map[string]string{"LDAPD_IDLE_TIMEOUT": "1"}, 2, `ldapd serve: environment LDAPD_IDLE_TIMEOUT: invalid value "1"`},
		{"flag over env", []string{"--log-level", "loud"}, map[string]string{"LDAPD_LOG_LEVEL": "debug"}, 2, `--log-level: invalid value "loud"`},
		{"file under the flags", []string{"--config", config, "--tls-cert", "c.pem", "--data", notDir}, nil, 1, "create data directory"},
		{"env over file", []string{"--config", config, "--tls-cert", "c.pem", "--data", notDir}, map[string]string{"LDAPD_TLS_KEY": ""}, 2,
			"--tls-cert and --tls-key go together"},
		{"file from env", []string{"--tls-cert", "c.pem", "--data", notDir}, map[string]string{"LDAPD_CONFIG": config}, 1, "create data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, stderr := clientTestEnv(nil, false)
			e.getenv = func(k string) string { return tt.environ[k] }
			e.lookupEnv = func(k string) (string, bool) { v, ok := tt.environ[k]; return v, ok }
			code := run(t.Context(), e, append([]string{"serve"}, tt.args...))
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d (want %d), stderr %q, want %q", code, tt.code, stderr, tt.want)
			}
		})
	}
}

// TestPasswordCacheOptions: --password-cache-ttl and --password-cache-size
// come from every source, default to idm's defaults, and 0 or less turns
// the cache off (idm.Config wants a negative value for that; 0 there is
// the default).
func TestPasswordCacheOptions(t *testing.T) {
	cfg, err := loadServeConfig(t, nil, nil, "")
	if err != nil || cfg.PasswordCacheTTL != idm.DefaultPasswordCacheTTL || cfg.PasswordCacheSize != idm.DefaultPasswordCacheSize {
		t.Fatalf("defaults: ttl %v size %d err %v", cfg.PasswordCacheTTL, cfg.PasswordCacheSize, err)
	}
	cfg, err = loadServeConfig(t, []string{"--password-cache-size", "7"}, map[string]string{"LDAPD_PASSWORD_CACHE_TTL": "0"},
		"password-cache-ttl = \"1m\"\npassword-cache-size = 5\n")
	if err != nil || cfg.PasswordCacheTTL != 0 || cfg.PasswordCacheSize != 7 {
		t.Fatalf("ttl %v size %d err %v: want the environment's 0 and the flag's 7", cfg.PasswordCacheTTL, cfg.PasswordCacheSize, err)
	}
	if got := cacheOff(cfg.PasswordCacheTTL); got >= 0 {
		t.Errorf("ttl 0 gives idm %v, want negative (off)", got)
	}
	if got := cacheOff(-3); got >= 0 {
		t.Errorf("size -3 gives idm %d, want negative (off)", got)
	}
	if got := cacheOff(time.Minute); got != time.Minute {
		t.Errorf("ttl 1m gives idm %v", got)
	}
}
