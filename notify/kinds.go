package notify

import (
	"encoding/json"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Notification kinds the admin can pick.
const (
	KindUserJoined     = "user_joined"
	KindInviteUsedUp   = "invite_used_up"
	KindAccessExpiring = "access_expiring"
	KindAccessExpired  = "access_expired"
	KindPurgeDone      = "purge_done"
	KindStreamKilled   = "stream_killed"
	KindServerOffline  = "server_offline"
	KindTokenInvalid   = "token_invalid"
	// KindTest is the kind of test messages.
	KindTest = "test"
)

// Event types this package records.
const (
	// EventExpiring: a user's access expires within the warning period (recorded by WarnUsers
	// once per user and expiry date; the admins' "access expiring" notification).
	EventExpiring = "user.expiring"
	// EventUserWarned: a user was warned (e-mail or Discord) before expiry or a purge.
	EventUserWarned = "user.warned"
	// EventFailed: a notification could not be delivered after its retries.
	EventFailed = "notify.failed"
)

// KindInfo describes a kind for the settings page.
type KindInfo struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// Kinds lists the kinds an admin can pick, in display order.
func Kinds() []KindInfo {
	return []KindInfo{
		{KindUserJoined, "A user joined"},
		{KindInviteUsedUp, "An invite is used up"},
		{KindAccessExpiring, "A user's access expires soon"},
		{KindAccessExpired, "A user's access expired"},
		{KindPurgeDone, "A purge removed users"},
		{KindStreamKilled, "A stream rule stopped a stream"},
		{KindServerOffline, "A server is offline"},
		{KindTokenInvalid, "Plex refused the token"},
	}
}

// validKind reports whether k is a kind an admin can pick.
func validKind(k string) bool {
	for _, ki := range Kinds() {
		if ki.Kind == k {
			return true
		}
	}
	return false
}

// kindsByType maps event types to kinds.
var kindsByType = map[string]string{
	"user.joined":        KindUserJoined,
	"invite.redeemed":    KindUserJoined,
	"invite.used_up":     KindInviteUsedUp,
	EventExpiring:        KindAccessExpiring,
	"user.expired":       KindAccessExpired,
	"purge.done":         KindPurgeDone,
	"stream.killed":      KindStreamKilled,
	"stream.kill_failed": KindStreamKilled,
	"server.offline":     KindServerOffline,
	"plex.token_invalid": KindTokenInvalid,
}

// KindOf returns the notification kind of an event: user.joined and invite.redeemed (user
// joined), invite.used_up, user.expiring, user.expired, purge.done or a pass.purge report that
// removed someone, stream.killed and stream.kill_failed, server.offline, plex.token_invalid.
// Events of this package (notify.*) never notify, so a failing channel cannot loop.
func KindOf(ev storage.Event) (string, bool) {
	if strings.HasPrefix(ev.Type, "notify.") {
		return "", false
	}
	if k, ok := kindsByType[ev.Type]; ok {
		return k, true
	}
	if ev.Type == "pass.purge" && purgeRemoved(ev) > 0 {
		return KindPurgeDone, true
	}
	return "", false
}

// purgeRemoved counts the users a pass.purge report removed (Data["report"].removed), whatever
// Go type the report has before or after a JSON round trip.
func purgeRemoved(ev storage.Event) int {
	raw, err := json.Marshal(ev.Data["report"])
	if err != nil {
		return 0
	}
	var r struct {
		Removed []json.RawMessage `json:"removed"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return 0
	}
	return len(r.Removed)
}

// titleOf is the short title of a notification of kind k.
func titleOf(k string) string {
	switch k {
	case KindTest:
		return "Test notification"
	}
	for _, ki := range Kinds() {
		if ki.Kind == k {
			return ki.Label
		}
	}
	return k
}
