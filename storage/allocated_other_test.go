//go:build !unix

package storage

import "os"

// allocatedBytes is not known here.
func allocatedBytes(os.FileInfo) (int64, bool) { return 0, false }
