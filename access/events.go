package access

import (
	"fmt"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Audit event types recorded by the engine.
const (
	EventUserAdopted       = "user.adopted"
	EventUserUpdated       = "user.updated"
	EventUserShareChanged  = "user.share_changed"
	EventUserRemovedInPlex = "user.removed_in_plex"
	EventUserBackInPlex    = "user.back_in_plex"
	EventUserAccepted      = "user.accepted"
	EventUserSharesBack    = "user.shares_back"
	EventUserStarted       = "user.started"
	EventUserExpired       = "user.expired"
	EventUserLibraryAdded  = "user.library_started"
	EventUserLibraryEnded  = "user.library_expired"
	EventUserPurged        = "user.purged"
	EventUserRemoved       = "user.removed"
	EventUserShared        = "user.shared"
	EventUserUnshared      = "user.unshared"
	EventUserInvited       = "user.invited"
	EventUserJoined        = "user.joined"
	EventInviteCancelled   = "user.invite_cancelled"
	EventInviteResent      = "user.invite_resent"
	EventManagedCreated    = "home.managed_created"
	EventHomeRemoved       = "home.member_removed"
	EventSyncHeld          = "sync.held"
	EventSyncConfirmed     = "sync.confirmed"
	EventSyncRefused       = "sync.refused"
	EventEnforceCapped     = "enforce.capped"
	EventPurgeCapped       = "purge.capped"
	EventIntentFailed      = "intent.failed"
	EventIntentRetry       = "intent.retry"
	EventIntentRolledBack  = "intent.rolled_back"
	EventTokenInvalid      = "plex.token_invalid"
	EventTokenRestored     = "plex.token_restored"
	EventServerUpdated     = "server.updated"
	EventServerOffline     = "server.offline"
	EventSettingsChanged   = "settings.engine_changed"
	// Pass reports: one event per pass, the report in Data["report"]; RecentPasses lists them.
	EventPassSync    = "pass.sync"
	EventPassEnforce = "pass.enforce"
	EventPassPurge   = "pass.purge"
	EventPassHistory = "pass.history"
)

// ActorSystem is the actor of automatic passes.
const ActorSystem = "system"

// ActorAdmin, ActorAPIKey and ActorUser build the other actor strings.
func ActorAdmin(username string) string { return "admin:" + username }

// ActorAPIKey returns the actor string of an API key.
func ActorAPIKey(name string) string { return "apikey:" + name }

// ActorUser returns the actor string of a Plex user acting for themselves (an invite redemption).
func ActorUser(plexID int64) string { return fmt.Sprintf("user:%d", plexID) }

// newEvent builds an event with its id chosen now (so a retried transaction writes it once).
func newEvent(at time.Time, typ, actor string, userID int64, serverID, msg string, data map[string]any) storage.Event {
	at = at.UTC()
	if actor == "" {
		actor = ActorSystem
	}
	return storage.Event{
		ID: storage.NewEventID(at), At: at, Type: typ, Actor: actor, UserID: userID, ServerID: serverID,
		Message: msg, Data: data,
	}
}

// Record appends an audit event; a zero At becomes now (UTC), an empty ID a new event id, an empty
// Actor "system".
func (s *Service) Record(ev storage.Event) error {
	if ev.At.IsZero() {
		ev.At = s.clock()
	}
	ev.At = ev.At.UTC()
	if ev.Actor == "" {
		ev.Actor = ActorSystem
	}
	if _, err := s.store.AppendEvent(ev); err != nil {
		return fmt.Errorf("recording event %s: %w", ev.Type, err)
	}
	return nil
}

// plural is n with the singular or plural noun ("1 library", "3 libraries").
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
