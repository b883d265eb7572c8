package handlers

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/auth"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// SetupCodeLogMessage is the message of the log entry that carries a new setup code (field
// "setup_code"; "expires_at" says until when it is valid).
const SetupCodeLogMessage = "no admin exists yet: open the admin UI and enter this setup code to create the first admin"

// IssueSetupCode makes a fresh one-time setup code and logs it at WARN level (fields
// "setup_code" and "expires_at"), but only while no admin exists; it reports whether it issued
// one. The root calls it from the App's Start; the setup page calls it when the admin asks for a
// new code. A new code replaces the previous one.
func IssueSetupCode(store *storage.Store, logger *zap.Logger, now func() time.Time) (bool, error) {
	n, err := store.CountAdmins()
	if err != nil {
		return false, fmt.Errorf("counting admins: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	codes, err := auth.NewSetupCodes(store, now)
	if err != nil {
		return false, err
	}
	code, exp, err := codes.Issue()
	if err != nil {
		return false, err
	}
	if logger != nil {
		logger.Warn(SetupCodeLogMessage, zap.String("setup_code", code), zap.Time("expires_at", exp.UTC()))
	}
	return true, nil
}
