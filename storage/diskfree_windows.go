//go:build windows

package storage

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// freeSpace returns the bytes available to this user on the volume holding dir.
func freeSpace(dir string) (uint64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, fmt.Errorf("free space of %q: %w", dir, err)
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, fmt.Errorf("free space of %q: %w", dir, err)
	}
	return avail, nil
}
