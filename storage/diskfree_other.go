//go:build !linux && !darwin && !freebsd && !dragonfly && !windows

package storage

import (
	"errors"
	"fmt"
)

// freeSpace is not available on this system: the free-space guard logs that once and lets writes
// through.
func freeSpace(dir string) (uint64, error) {
	return 0, fmt.Errorf("free space of %q: %w", dir, errors.ErrUnsupported)
}
