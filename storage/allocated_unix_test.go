//go:build unix

package storage

import (
	"os"
	"syscall"
)

// allocatedBytes is how much disk space fi's file really takes (st_blocks).
func allocatedBytes(fi os.FileInfo) (int64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(st.Blocks) * 512, true //nolint:unconvert // Blocks is int64 on some systems only
}
