package notify

import (
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Channel names.
const (
	ChannelWebhook  = "webhook"
	ChannelDiscord  = "discord"
	ChannelShoutrrr = "shoutrrr"
)

// Message is one notification.
type Message struct {
	// Kind is the notification kind (KindUserJoined, …, KindTest).
	Kind string `json:"kind"`
	// Title is a short headline; Text the event's sentence.
	Title string `json:"title"`
	Text  string `json:"text"`
	// Event is the audit event that caused it (nil for tests).
	Event *storage.Event `json:"event,omitempty"`
	// At is when the message was created.
	At time.Time `json:"sent_at"`
}

// messageOf builds the message of an event of kind k.
func messageOf(k string, ev storage.Event, now time.Time) Message {
	e := ev
	return Message{Kind: k, Title: titleOf(k), Text: ev.Message, Event: &e, At: now.UTC()}
}
