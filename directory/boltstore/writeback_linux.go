package boltstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the file's bytes
// [off, off+n) to disk without waiting (sync_file_range), so that the
// fsync that ends a build finds most of them written. A failure only
// loses that head start: the fsync still writes and reports.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
