package storage

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// Sentinel errors. Repositories wrap them with context; test with errors.Is.
var (
	// ErrNotFound means the record (or ephemeral state) does not exist or has expired.
	ErrNotFound = errors.New("not found")
	// ErrExists means a unique index (invite code, admin username, API key hash, …) is taken by
	// another record.
	ErrExists = errors.New("already exists")
	// ErrInvalid means a record or query failed an integrity check at the storage boundary
	// (missing id, unknown enum value, malformed key segment).
	ErrInvalid = errors.New("invalid")
	// ErrClosed means the Store has been closed.
	ErrClosed = errors.New("store is closed")
	// ErrConflict means a read-write transaction still conflicted with concurrent writers after
	// every retry of Update.
	ErrConflict = badger.ErrConflict
	// ErrSchemaTooNew means the database was written by a newer build with a newer schema.
	ErrSchemaTooNew = errors.New("database schema is newer than this build supports")
	// ErrDirLocked means another process (or another open Store) holds the Badger directory lock.
	ErrDirLocked = errors.New("database directory is locked")
	// ErrDiskFull means the file system of the database directory has less free space than the
	// Store keeps in reserve, so the write was refused before Badger touched the disk. Nothing was
	// changed; the write can be tried again once space is freed.
	ErrDiskFull = errors.New("data disk is full")
)

// Reasons ReserveUse refuses an invite.
var (
	// ErrInviteExpired: the invite's ExpiresAt has passed.
	ErrInviteExpired = errors.New("invite expired")
	// ErrInviteUsedUp: Uses reached MaxUses.
	ErrInviteUsedUp = errors.New("invite used up")
	// ErrInviteDisabled: the invite is not Enabled.
	ErrInviteDisabled = errors.New("invite disabled")
)
