package admin

import (
	"fmt"
	"os"
	"strings"
)

// DefaultCAFile is the CA certificate `ldapd serve` generates in its data
// directory; NewConfig trusts it when no CA file is given and it exists
// relative to the working directory (as after `make run` in the same
// checkout).
const DefaultCAFile = "data/tls/ca.pem"

// NewConfig is the Config for the server at url (empty: DefaultURL),
// trusting the CA certificates in caFile; an empty caFile means
// DefaultCAFile if it is a regular file, else the system's roots.
func NewConfig(url, caFile string) Config {
	cfg := Config{URL: url, CAFile: caFile}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.CAFile == "" {
		if st, err := os.Stat(DefaultCAFile); err == nil && st.Mode().IsRegular() {
			cfg.CAFile = DefaultCAFile
		}
	}
	return cfg
}

// Trusted says which certificates c trusts, for error messages.
func (c Config) Trusted() string {
	if c.RootCAs != nil {
		return "the given CA certificates"
	}
	if c.CAFile != "" {
		return "the CA certificate in " + c.CAFile
	}
	return "the system's root certificates"
}

// ReadPasswordFile returns the first line of file, without its line end;
// an empty first line is an error.
func ReadPasswordFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read the password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("the password file %s is empty", file)
	}
	return line, nil
}
