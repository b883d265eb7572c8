//go:build !linux

package storage

import (
	"fmt"
	"os"
)

// allocateFile creates path with size bytes of zeros written out, so that the blocks are really
// allocated and deleting the file later gives that much space back.
func allocateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	err = writeZeros(f, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("allocating %d bytes in %q: %w", size, path, err)
	}
	return nil
}
