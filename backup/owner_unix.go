//go:build unix

package backup

import (
	"fmt"
	"os"
	"syscall"
)

// chownLike gives path the owner and group of like (restore keeps the
// data directory's owners: a root-owned ldapd.db stops a service that
// runs as its own user).
func chownLike(path string, like os.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Lchown(path, int(st.Uid), int(st.Gid))
}

// ownerString is "uid:gid" of fi, for messages.
func ownerString(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("uid %d, gid %d", st.Uid, st.Gid)
	}
	return "unknown owner"
}
