package notify

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Warning reasons, recorded in user.warned events.
const (
	ReasonExpiry = "expiry"
	ReasonPurge  = "purge"
)

// WarnReport summarises one WarnUsers run.
type WarnReport struct {
	// Expiring counts users newly found expiring within the warning period; Purge users newly
	// found on the purge list.
	Expiring int `json:"expiring"`
	Purge    int `json:"purge"`
	// Emails and DMs count the messages sent.
	Emails int `json:"emails"`
	DMs    int `json:"dms"`
	// Failures lists what could not be sent, one sentence each.
	Failures []string `json:"failures,omitempty"`
}

// WarnUsers warns the users whose access expires within Settings.WarnDays and, with WarnPurge,
// those the next purge would remove — once per expiry date and once per inactivity period (the
// events it records are the memory). For each expiring user it records user.expiring, which the
// admins' "access expiring" notification follows. Run it periodically (hourly is plenty). When ctx
// ends (Caddy stopping or reloading) it stops with ctx's error; a warning cut short before anything
// was sent records no user.warned, so the next run sends it.
func (n *Notifier) WarnUsers(ctx context.Context) (WarnReport, error) {
	var rep WarnReport
	s, err := n.Settings()
	if err != nil {
		return rep, err
	}
	now := n.opts.Now().UTC()
	if s.WarnDays > 0 {
		ids, err := n.opts.Store.DueExpiries(now.Add(time.Duration(s.WarnDays) * 24 * time.Hour))
		if err != nil {
			return rep, fmt.Errorf("listing expiring users: %w", err)
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return rep, fmt.Errorf("warning users: %w", err)
			}
			u, err := n.opts.Store.GetUser(id)
			if err != nil || u.ExpiresAt == nil || !u.ExpiresAt.After(now) ||
				(u.Status != storage.StatusActive && u.Status != storage.StatusScheduled) {
				continue
			}
			key := u.ExpiresAt.UTC().Format(time.RFC3339)
			noticed, warned, err := n.expiryWarned(u.ID, key)
			if err != nil || warned {
				continue
			}
			days := int(u.ExpiresAt.Sub(now).Hours()/24 + 0.5)
			if !noticed {
				// Recorded before the warning is sent: a store that refuses it stops the run before a
				// warning goes out that could not be remembered.
				rep.Expiring++
				if err := n.opts.Record(storage.Event{Type: EventExpiring, Actor: "system", UserID: u.ID,
					Message: fmt.Sprintf("%s's access expires on %s (in %d days)", name(u), u.ExpiresAt.UTC().Format("2 Jan 2006"), days),
					Data:    map[string]any{"key": key, "expires_at": key, "days": days}}); err != nil {
					return rep, fmt.Errorf("recording an expiry warning: %w", err)
				}
			}
			subject := "Your Plex access ends on " + u.ExpiresAt.UTC().Format("2 January 2006")
			body := fmt.Sprintf("Hi %s,\n\nyour access to the Plex server ends on %s (in %d days).\n",
				name(u), u.ExpiresAt.UTC().Format("Monday 2 January 2006 at 15:04 MST"), days)
			if err := n.warn(ctx, &rep, s, u, ReasonExpiry, key, subject, body, u.ExpiresAt.Sub(now)+7*24*time.Hour); err != nil {
				return rep, err
			}
		}
	}
	if s.WarnPurge && n.opts.PurgeCandidates != nil {
		users, err := n.opts.PurgeCandidates(ctx)
		if err != nil {
			return rep, fmt.Errorf("listing purge candidates: %w", err)
		}
		for _, u := range users {
			if err := ctx.Err(); err != nil {
				return rep, fmt.Errorf("warning users: %w", err)
			}
			key := "never"
			if u.LastActivityAt != nil {
				key = u.LastActivityAt.UTC().Format(time.RFC3339)
			}
			if done, err := n.alreadyWarned(u.ID, EventUserWarned, ReasonPurge+":"+key); err != nil || done {
				continue
			}
			rep.Purge++
			seen := "you have not watched anything yet"
			if u.LastActivityAt != nil {
				seen = "you have not watched anything since " + u.LastActivityAt.UTC().Format("2 January 2006")
			}
			subject := "Your Plex access will be removed for inactivity"
			body := fmt.Sprintf("Hi %s,\n\n%s. Inactive users are removed from the Plex server at the next clean-up. "+
				"Watch something to keep your access.\n", name(u), seen)
			if err := n.warn(ctx, &rep, s, u, ReasonPurge, ReasonPurge+":"+key, subject, body, 30*24*time.Hour); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// alreadyWarned reports whether an event of typ with Data["key"] == key exists for the user.
func (n *Notifier) alreadyWarned(userID int64, typ, key string) (bool, error) {
	evs, err := n.opts.Store.ListEvents(storage.EventQuery{UserID: userID, Type: typ, Limit: storage.MaxEventLimit})
	if err != nil {
		return false, err
	}
	for _, ev := range evs {
		if k, _ := ev.Data["key"].(string); k == key {
			return true, nil
		}
	}
	return false, nil
}

// expiryWarned reports whether the user's expiry key was noticed (a user.expiring event with the key)
// and whether the user's warning about it was recorded since (a user.warned event for an expiry at or
// after that notice: a warning cut short by a stop records none, and is sent again).
func (n *Notifier) expiryWarned(userID int64, key string) (noticed, warned bool, err error) {
	evs, err := n.opts.Store.ListEvents(storage.EventQuery{UserID: userID, Type: EventExpiring, Limit: storage.MaxEventLimit})
	if err != nil {
		return false, false, err
	}
	var at time.Time
	for _, ev := range evs {
		if k, _ := ev.Data["key"].(string); k == key && (!noticed || ev.At.Before(at)) {
			noticed, at = true, ev.At
		}
	}
	if !noticed {
		return false, false, nil
	}
	ws, err := n.opts.Store.ListEvents(storage.EventQuery{UserID: userID, Type: EventUserWarned, Since: at, Limit: storage.MaxEventLimit})
	if err != nil {
		return true, false, err
	}
	for _, ev := range ws {
		if r, _ := ev.Data["reason"].(string); r == ReasonExpiry {
			return true, true, nil
		}
	}
	return true, false, nil
}

// warn sends one warning to the user by e-mail and/or Discord DM, with a status link, and
// records a user.warned event (also when nothing could be sent, so it is not retried forever).
// When ctx ends (Caddy stopping or reloading) while it sends, a send cut short is no failure: with
// nothing sent it records nothing, so the next run warns again, and returns ctx's error.
func (n *Notifier) warn(ctx context.Context, rep *WarnReport, s Settings, u storage.User, reason, key, subject, body string, linkFor time.Duration) error {
	if n.opts.StatusURL != nil {
		if tok, err := n.StatusToken(u.ID, linkFor); err == nil {
			body += "\nSee your access status: " + n.opts.StatusURL(tok) + "\n"
		} else {
			rep.Failures = append(rep.Failures, fmt.Sprintf("status link for %s: %v", name(u), err))
		}
	}
	body += "\nIf you think this is a mistake, contact the server owner.\n"
	var sent, failed []string
	if s.WarnEmail && u.Email != "" && ctx.Err() == nil {
		if err := n.opts.Mailer.SendMail(ctx, u.Email, subject, body); err == nil {
			rep.Emails++
			sent = append(sent, "email")
		} else if ctx.Err() == nil {
			failed = append(failed, "e-mail: "+err.Error())
		}
	}
	if s.WarnDiscord && u.DiscordID != "" && n.opts.DM != nil && ctx.Err() == nil {
		if err := n.opts.DM.SendDM(ctx, u.DiscordID, subject+"\n\n"+body); err == nil {
			rep.DMs++
			sent = append(sent, "discord")
		} else if ctx.Err() == nil {
			failed = append(failed, "discord: "+err.Error())
		}
	}
	if err := ctx.Err(); err != nil && len(sent) == 0 {
		return fmt.Errorf("warning %s: stopped before it was sent: %w", name(u), err)
	}
	for _, f := range failed {
		rep.Failures = append(rep.Failures, name(u)+": "+f)
	}
	msg := fmt.Sprintf("Warned %s (%s) by %s", name(u), reason, strings.Join(sent, " and "))
	if len(sent) == 0 {
		msg = fmt.Sprintf("Could not warn %s (%s): no e-mail or Discord link, or sending failed", name(u), reason)
	}
	data := map[string]any{"reason": reason, "channels": sent}
	if reason == ReasonPurge {
		data["key"] = key
	}
	if len(failed) > 0 {
		data["errors"] = failed
	}
	_ = n.opts.Record(storage.Event{Type: EventUserWarned, Actor: "system", UserID: u.ID, Message: msg, Data: data})
	return nil
}

// name is how a user is addressed.
func name(u storage.User) string {
	return cmp.Or(u.Username, u.Title, u.Email, fmt.Sprintf("user %d", u.ID))
}
