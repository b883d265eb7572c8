package events

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// RetentionSetting names the setting with the number of days events are kept (0: forever).
const RetentionSetting = "events.retention_days"

// DefaultRetentionDays applies while the setting is unset.
const DefaultRetentionDays = 365

// MaxRetentionDays bounds the setting.
const MaxRetentionDays = 3650

// LoadRetention returns the retention in days (DefaultRetentionDays when unset, 0 = forever).
func LoadRetention(store *storage.Store) (int, error) {
	var days int
	err := store.GetSetting(RetentionSetting, &days)
	if errors.Is(err, storage.ErrNotFound) {
		return DefaultRetentionDays, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the event retention: %w", err)
	}
	return days, nil
}

// SaveRetention stores the retention in days (0–3650; 0 keeps events forever).
func SaveRetention(store *storage.Store, days int) error {
	if days < 0 || days > MaxRetentionDays {
		return web.NewInputError("retention_days", "must be between 0 and %d", MaxRetentionDays)
	}
	if err := store.PutSetting(RetentionSetting, days); err != nil {
		return fmt.Errorf("saving the event retention: %w", err)
	}
	return nil
}

// Prune deletes the events older than the retention (nothing when it is 0) and returns how many
// it deleted; when it deleted any, it records an events.pruned event. The root runs it daily.
// Stream history (stream.ended events) is pruned with the rest.
func Prune(store *storage.Store, now time.Time) (int, error) {
	days, err := LoadRetention(store)
	if err != nil || days == 0 {
		return 0, err
	}
	cut := now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
	n, err := store.DeleteEventsBefore(cut)
	if err != nil {
		return n, err
	}
	if n > 0 {
		_, err = store.AppendEvent(storage.Event{Type: "events.pruned", Actor: "system",
			Message: fmt.Sprintf("Deleted %d events older than %d days", n, days), Data: map[string]any{"deleted": n, "days": days}})
	}
	return n, err
}

// saveRetention handles the retention form.
func (f *Feature) saveRetention(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("retention_days")))
	if err == nil {
		err = SaveRetention(f.store, days)
	} else {
		err = web.NewInputError("retention_days", "must be a number of days")
	}
	var ie *web.InputError
	if err != nil && !errors.As(err, &ie) {
		web.ServerError(w, r, nil, "saving the event retention", err)
		return
	}
	if err != nil {
		web.Flash(w, r, web.FlashError, err.Error())
		web.Redirect(w, r, "/events")
		return
	}
	p, _ := web.CurrentPrincipal(r)
	_, _ = f.store.AppendEvent(storage.Event{Type: "settings.retention_changed", Actor: p.Actor(),
		Message: fmt.Sprintf("Event retention set to %d days", days), Data: map[string]any{"days": days}})
	web.Flash(w, r, web.FlashSuccess, "Event retention saved.")
	web.Redirect(w, r, "/events")
}
