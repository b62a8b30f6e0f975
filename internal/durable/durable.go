// Package durable makes file system changes survive a crash: a new file,
// or a rename, is only durable once the directory that names it is
// synced, as well as the file's own data.
//
// # Basics
//
// Write a file's data and Sync it, rename it into place, then SyncDir the
// directory: a crash before SyncDir can leave the old name, or (without the
// file's own Sync) the new name pointing at an empty file.
//
// # Caveats
//
// Some file systems do not support syncing a directory; SyncDir then
// returns the error the operating system gives.
package durable

import "os"

// SyncDir makes the directory entries of dir durable: new files in it and
// renames into it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
