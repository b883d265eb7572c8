//go:build !linux && !darwin && !freebsd && !dragonfly

package main

import (
	"errors"
	"time"
)

// statfsCost is not measured on this system.
func statfsCost(string) (time.Duration, error) { return 0, errors.ErrUnsupported }
