//go:build linux || darwin || freebsd || dragonfly

package storage

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes available to unprivileged users on the file system holding dir (the
// root reserve is not counted: Badger must not depend on it).
func freeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %q: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil //nolint:unconvert // field types differ between systems
}
