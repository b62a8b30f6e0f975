package daemon

import (
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/datastore"
)

// warnInsecureOptions logs, at start, each option that weakens security.
func warnInsecureOptions(cfg Config, log zerolog.Logger) {
	if cfg.AllowInsecureBind {
		log.Warn().Str("event", "security").Str("flag", "allow-insecure-bind").
			Msg("--allow-insecure-bind (allow-insecure-bind = true, LDAPD_ALLOW_INSECURE_BIND): passwords and tokens are accepted over LDAP without TLS")
	}
	if cfg.Store.Kind == datastore.Etcd && cfg.Store.AllowPlaintext {
		if plain := cfg.Store.PlaintextEndpoints(); len(plain) > 0 {
			log.Warn().Str("event", "security").Str("flag", "etcd-allow-plaintext").Strs("endpoints", plain).
				Msg("--etcd-allow-plaintext: talking to etcd without TLS; password hashes and the sealed signing keys cross the network in clear")
		}
	}
	if cfg.Store.Kind == datastore.Etcd && cfg.Store.RegenerateKeyring {
		log.Warn().Str("event", "security").Str("flag", "keyring-regenerate").
			Msg("--keyring-regenerate: if the token signing keys are missing, new ones are made and every token issued before stops working; remove the flag after this start")
	}
}

// CheckConfigFileMode refuses a configuration file that anyone may write
// (whoever can write it chooses the TLS key, the listeners, the etcd
// endpoints) and returns a warning for one its group may write.
func CheckConfigFileMode(path string) (warning string, err error) {
	if path == "" {
		return "", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o002 != 0:
		return "", fmt.Errorf("config %s has mode %04o: any local user can write it and so choose how ldapd runs; refusing it. Run chmod o-w %s (644 or 600)",
			path, perm, path)
	case perm&0o020 != 0:
		return fmt.Sprintf("config %s has mode %04o: its group can write it and so choose how ldapd runs; chmod g-w %s", path, perm, path), nil
	}
	return "", nil
}

// secureDataDir creates the data directory 0700 or, if it exists with
// any group or other permission bit, tightens it to 0700: the directory
// holds the admin socket (root identity), the signing keys and the TLS
// keys, and its mode is what first keeps other local users out. It returns
// the mode it found when it tightened it (0 otherwise), for a warning; if
// the directory cannot be tightened, serving is refused.
func secureDataDir(data string) (was os.FileMode, err error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return 0, fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(data)
	if err != nil {
		return 0, fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("data directory %s is not a directory", data)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return 0, nil
	}
	if err := os.Chmod(data, 0o700); err != nil {
		return 0, fmt.Errorf("data directory %s has mode %04o (group or others can reach the admin socket and the keys) and cannot be tightened to 0700: %w; "+
			"run chmod 700 %s as its owner, or serve as the user who owns it", data, perm, err, data)
	}
	return perm, nil
}
