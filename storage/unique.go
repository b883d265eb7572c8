package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Unique indexes map a value (an invite code, an admin username, a key hash, …) to the one record id
// that holds it: the index key's value is that id.

// claimUnique points the unique index key at id, failing with ErrExists when another id holds it.
// what names the value for the error (never the value itself when it is secret).
func (tx *Tx) claimUnique(key []byte, id, what string) error {
	v, err := tx.getRaw(key)
	switch {
	case err == nil && string(v) == id:
		return nil
	case err == nil:
		return fmt.Errorf("%s: %w", what, ErrExists)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return tx.set(badger.NewEntry(key, []byte(id)))
}

// releaseUnique deletes the unique index key if id holds it.
func (tx *Tx) releaseUnique(key []byte, id string) error {
	v, err := tx.getRaw(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if string(v) != id {
		return nil
	}
	return tx.del(key)
}

// lookupUnique returns the id a unique index key points at; ErrNotFound when unclaimed.
func (tx *Tx) lookupUnique(key []byte) (string, error) {
	v, err := tx.getRaw(key)
	if err != nil {
		return "", err
	}
	return string(v), nil
}
