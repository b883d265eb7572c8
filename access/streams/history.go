package streams

import (
	"cmp"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// HistoryEntry is one ended stream of a user, read back from a stream.ended event.
type HistoryEntry struct {
	// EventID is the event's id (the cursor for the next page).
	EventID string `json:"event_id"`
	// UserID and Username name the viewer.
	UserID   int64  `json:"user_id"`
	Username string `json:"username,omitempty"`
	// Server and ServerName name the server.
	Server     string `json:"server"`
	ServerName string `json:"server_name,omitempty"`
	// Title is the display title; Type the item type.
	Title string `json:"title"`
	Type  string `json:"type,omitempty"`
	// Player, Product and Platform name the device; Local tells whether it was on the LAN.
	Player   string `json:"player,omitempty"`
	Product  string `json:"product,omitempty"`
	Platform string `json:"platform,omitempty"`
	Local    bool   `json:"local"`
	// StartedAt and EndedAt bound the stream as the poller saw it; Watched is their difference.
	StartedAt time.Time     `json:"started_at"`
	EndedAt   time.Time     `json:"ended_at"`
	Watched   time.Duration `json:"watched_ns"`
	// Progress is the last position in percent; Decision the last playback decision.
	Progress float64 `json:"progress"`
	Decision string  `json:"decision,omitempty"`
}

// endedEvent builds the stream.ended event of a stream last seen at lastSeen.
func endedEvent(s Stream, lastSeen time.Time) storage.Event {
	watched := max(lastSeen.Sub(s.StartedAt), 0).Round(time.Second)
	who := cmp.Or(s.Username, fmt.Sprintf("user %d", s.UserID))
	return storage.Event{
		At: lastSeen, Type: EventStreamEnded, Actor: SystemActor, UserID: s.UserID, ServerID: s.Server,
		Message: fmt.Sprintf("%s watched %s on %s for %s", who, s.Title, cmp.Or(s.Player.Title, s.Player.Product, "a player"), watched),
		Data: map[string]any{
			"username": s.Username, "server_name": s.ServerName, "title": s.Title, "type": s.Media.Type,
			"rating_key": s.Media.RatingKey, "player": s.Player.Title, "product": s.Player.Product,
			"platform": s.Player.Platform, "local": s.Player.Local, "session": s.Session,
			"started_at": s.StartedAt.UTC().Format(time.RFC3339), "ended_at": lastSeen.UTC().Format(time.RFC3339),
			"watched_s": int64(watched / time.Second), "progress": s.Progress, "decision": s.Decision,
			"owner": s.Owner,
		},
	}
}

// recordEnded records the ended streams as stream.ended events and marks their users active.
// It returns how many it recorded.
func (p *Poller) recordEnded(ended []liveStream, now time.Time) int {
	n := 0
	for _, l := range ended {
		if p.alreadyEnded(l.stream) {
			continue
		}
		if err := p.opts.Record(endedEvent(l.stream, l.lastSeen)); err != nil {
			p.log.Error("recording an ended stream", zap.String("server", l.stream.Server), zap.Error(err))
			continue
		}
		n++
		if l.stream.Known && !l.stream.Owner {
			p.mark(l.stream.UserID, l.lastSeen)
		}
	}
	return n
}

// alreadyEnded reports whether a stream.ended event of the same server and session exists among
// the user's recent history: during a config reload the old and the new poller run side by side
// for a moment, and a stream ending then must be recorded once.
func (p *Poller) alreadyEnded(s Stream) bool {
	if s.Session == "" {
		return false
	}
	evs, err := p.opts.Store.ListEvents(storage.EventQuery{UserID: s.UserID, Type: EventStreamEnded, Limit: 50})
	if err != nil {
		return false
	}
	for _, ev := range evs {
		if ev.ServerID == s.Server && str(ev.Data, "session") == s.Session {
			return true
		}
	}
	return false
}

// History returns a user's ended streams, newest first: up to limit entries (default
// storage.DefaultEventLimit) older than the event id before ("" for the first page).
func History(store *storage.Store, userID int64, before string, limit int) ([]HistoryEntry, error) {
	if userID == 0 {
		return nil, fmt.Errorf("stream history needs a user id")
	}
	evs, err := store.ListEvents(storage.EventQuery{UserID: userID, Type: EventStreamEnded, Before: before, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("reading stream history of user %d: %w", userID, err)
	}
	out := make([]HistoryEntry, 0, len(evs))
	for _, ev := range evs {
		out = append(out, historyOf(ev))
	}
	return out, nil
}

// historyOf reads a stream.ended event; missing or mistyped data fields stay zero.
func historyOf(ev storage.Event) HistoryEntry {
	d := ev.Data
	h := HistoryEntry{
		EventID: ev.ID, UserID: ev.UserID, Server: ev.ServerID, EndedAt: ev.At,
		Username: str(d, "username"), ServerName: str(d, "server_name"), Title: str(d, "title"), Type: str(d, "type"),
		Player: str(d, "player"), Product: str(d, "product"), Platform: str(d, "platform"),
		Decision: str(d, "decision"), Progress: num(d, "progress"),
	}
	h.Local, _ = d["local"].(bool)
	if t, err := time.Parse(time.RFC3339, str(d, "started_at")); err == nil {
		h.StartedAt = t
	}
	if t, err := time.Parse(time.RFC3339, str(d, "ended_at")); err == nil {
		h.EndedAt = t
	}
	h.Watched = time.Duration(num(d, "watched_s")) * time.Second
	return h
}

// str reads a string field of event data.
func str(d map[string]any, k string) string {
	s, _ := d[k].(string)
	return s
}

// num reads a number field of event data (float64 after a JSON round trip, int64 before).
func num(d map[string]any, k string) float64 {
	switch v := d[k].(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	case int:
		return float64(v)
	}
	return 0
}
