package storage

import (
	"fmt"
	"os"
)

// allocateFile creates path with size bytes whose blocks are really allocated (not a sparse file),
// so that deleting it later gives that much space back.
func allocateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating %q: %w", path, err)
	}
	err = reserveBlocks(f, size)
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

// writeZeros writes size zero bytes to f from its current offset.
func writeZeros(f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			return fmt.Errorf("writing zeros: %w", err)
		}
		size -= n
	}
	return nil
}
