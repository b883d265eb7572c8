package storage

import (
	"fmt"
	"os"
)

// writeZeros writes size zero bytes to f from its current offset.
func writeZeros(f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for size > 0 {
		n := int64(len(buf))
		if size < n {
			n = size
		}
		if _, err := f.Write(buf[:n]); err != nil {
			return fmt.Errorf("writing zeros: %w", err)
		}
		size -= n
	}
	return nil
}
