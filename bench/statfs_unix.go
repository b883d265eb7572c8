//go:build linux || darwin || freebsd || dragonfly

package main

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// statfsCost is the median time of one statfs of dir (the call the store's free-space guard makes).
func statfsCost(dir string) (time.Duration, error) {
	const calls = 10_000
	sample := make([]time.Duration, 0, calls)
	var st unix.Statfs_t
	for range calls {
		t0 := time.Now()
		if err := unix.Statfs(dir, &st); err != nil {
			return 0, fmt.Errorf("statfs %q: %w", dir, err)
		}
		sample = append(sample, time.Since(t0))
	}
	return summarize(sample).p50, nil
}
