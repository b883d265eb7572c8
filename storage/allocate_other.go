//go:build !linux

package storage

import "os"

// reserveBlocks allocates size bytes of blocks for the empty file f by writing zeros.
func reserveBlocks(f *os.File, size int64) error { return writeZeros(f, size) }
