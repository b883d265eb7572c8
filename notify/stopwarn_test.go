package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// blockingDM is a Discord DM sender that, while hang is set, reports each call on started and waits
// for its context to end.
type blockingDM struct {
	mu      sync.Mutex
	hang    bool
	started chan struct{}
	sent    []string
}

func (d *blockingDM) SendDM(ctx context.Context, id, _ string) error {
	d.mu.Lock()
	hang := d.hang
	d.mu.Unlock()
	if hang {
		d.started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, id)
	return nil
}

func (d *blockingDM) setHang(h bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hang = h
}

func (d *blockingDM) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sent)
}

// TestWarningCutShortByAStopIsSentAgain: a user warning whose sending is cut short by a stop records no
// "could not warn" user.warned (the memory that a user was warned), so the next run warns the user;
// the admins' user.expiring, recorded before the warning is sent, is not recorded twice.
func TestWarningCutShortByAStopIsSentAgain(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	last := now.Add(-100 * 24 * time.Hour)
	expires := now.Add(3 * 24 * time.Hour)
	cases := []struct {
		name  string
		user  storage.User
		purge bool
		// expiring is how many user.expiring events there are after the stop, and after the next run.
		expiring int
	}{
		{"expiry", storage.User{ID: 1001, Username: "alice", DiscordID: "111", ExpiresAt: &expires}, false, 1},
		{"purge", storage.User{ID: 1005, Username: "erin", DiscordID: "555", LastActivityAt: &last}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dm := &blockingDM{hang: true, started: make(chan struct{}, 4)}
			n, store, _ := newTestNotifier(t, func(o *Options) {
				o.Now = func() time.Time { return now }
				o.DM = dm
				o.PurgeCandidates = func(context.Context) ([]storage.User, error) {
					if tc.purge {
						return []storage.User{tc.user}, nil
					}
					return nil, nil
				}
			})
			u := tc.user
			u.Kind, u.Status = storage.KindFriend, storage.StatusActive
			if err := store.PutUser(u); err != nil {
				t.Fatal(err)
			}
			if _, err := n.SaveSettings("admin:root", Settings{WarnDays: 7, WarnPurge: true, WarnDiscord: true}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-dm.started
				cancel() // the stop arrives while the warning is being sent
			}()
			if _, err := n.WarnUsers(ctx); err == nil {
				t.Error("WarnUsers cut short by a stop returned no error")
			}
			if evs := events(t, store, EventUserWarned); len(evs) != 0 {
				t.Errorf("user.warned events after a warning cut short = %+v", evs)
			}
			if n := len(events(t, store, EventExpiring)); n != tc.expiring {
				t.Errorf("%d user.expiring events after a warning cut short, want %d", n, tc.expiring)
			}

			// The next run, not stopped, warns the user.
			dm.setHang(false)
			rep, err := n.WarnUsers(context.Background())
			if err != nil || rep.DMs != 1 || dm.count() != 1 {
				t.Fatalf("next run = %+v, %v, %d DMs; want the user warned", rep, err, dm.count())
			}
			if n := len(events(t, store, EventUserWarned)); n != 1 {
				t.Errorf("%d user.warned events after the next run, want 1", n)
			}
			if n := len(events(t, store, EventExpiring)); n != tc.expiring {
				t.Errorf("%d user.expiring events after the next run, want %d", n, tc.expiring)
			}
			// A third run sends nothing: the user is warned.
			if _, err := n.WarnUsers(context.Background()); err != nil || dm.count() != 1 {
				t.Errorf("third run: %v, %d DMs; want none sent again", err, dm.count())
			}
		})
	}
}

// TestWarningPartlySentBeforeAStopIsRecordedAsSent: a warning whose e-mail went out before a stop cut
// its Discord DM short is recorded as sent by e-mail, without the DM as a failure, and not sent again.
func TestWarningPartlySentBeforeAStopIsRecordedAsSent(t *testing.T) {
	f := newSMTPFake(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := now.Add(3 * 24 * time.Hour)
	dm := &blockingDM{hang: true, started: make(chan struct{}, 4)}
	n, store, _ := newTestNotifier(t, func(o *Options) {
		o.Now = func() time.Time { return now }
		o.DM = dm
		o.Mailer = SMTPMailer{Settings: SMTPSettings{Host: "127.0.0.1", Port: f.port(), Security: "none", From: "plex@example.com"}}
	})
	if err := store.PutUser(storage.User{ID: 1001, Username: "alice", Email: "alice@example.com", DiscordID: "111", ExpiresAt: &expires,
		Kind: storage.KindFriend, Status: storage.StatusActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SaveSettings("admin:root", Settings{WarnDays: 7, WarnEmail: true, WarnDiscord: true,
		SMTP: SMTPSettings{Host: "127.0.0.1", From: "plex@example.com"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-dm.started
		cancel() // the stop arrives while the DM is being sent
	}()
	rep, err := n.WarnUsers(ctx)
	if err != nil || rep.Emails != 1 || len(rep.Failures) != 0 {
		t.Errorf("run cut short after the e-mail = %+v, %v; want the e-mail counted and no failure", rep, err)
	}
	warned := events(t, store, EventUserWarned)
	if len(warned) != 1 || warned[0].Data["errors"] != nil || !strings.Contains(warned[0].Message, "by email") {
		t.Fatalf("user.warned events = %+v; want one, sent by e-mail, without errors", warned)
	}
	dm.setHang(false)
	if _, err := n.WarnUsers(context.Background()); err != nil || dm.count() != 0 || len(f.messages()) != 1 {
		t.Errorf("next run: %v, %d DMs, %d e-mails; want nothing sent again", err, dm.count(), len(f.messages()))
	}
}
