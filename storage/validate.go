package storage

import (
	"fmt"
	"slices"
	"strings"
)

// maxSegment bounds an identifier used as a key segment.
const maxSegment = 512

// checkSegment checks that s can be a key segment followed by more segments: non-empty, bounded, no
// '/' (which would blur prefix scans) and no control characters.
func checkSegment(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is required: %w", field, ErrInvalid)
	}
	if len(s) > maxSegment {
		return fmt.Errorf("%s is longer than %d bytes: %w", field, maxSegment, ErrInvalid)
	}
	for _, r := range s {
		if r == '/' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s must not contain '/' or control characters: %w", field, ErrInvalid)
		}
	}
	return nil
}

// checkLastSegment checks a key's final segment: non-empty and bounded; any byte is allowed because
// it is only ever looked up exactly.
func checkLastSegment(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is required: %w", field, ErrInvalid)
	}
	if len(s) > maxSegment {
		return fmt.Errorf("%s is longer than %d bytes: %w", field, maxSegment, ErrInvalid)
	}
	return nil
}

// checkOneOf checks that v is one of allowed.
func checkOneOf(field, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%s %q is not one of %s: %w", field, v, strings.Join(allowed, ", "), ErrInvalid)
	}
	return nil
}
