package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// fakeDM records Discord direct messages.
type fakeDM struct {
	mu   sync.Mutex
	sent map[string][]string
	fail error
}

func (d *fakeDM) SendDM(_ context.Context, id, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	if d.sent == nil {
		d.sent = map[string][]string{}
	}
	d.sent[id] = append(d.sent[id], text)
	return nil
}

func (d *fakeDM) get(id string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sent[id]
}

func TestSMTPMailer(t *testing.T) {
	f := newSMTPFake(t)
	tlsConf := &tls.Config{RootCAs: f.certPool, ServerName: "127.0.0.1"}
	base := SMTPSettings{Host: "127.0.0.1", Port: f.port(), From: "Plex <plex@example.com>"}

	// STARTTLS with a login.
	s := base
	s.Security, s.Username, s.Password = "starttls", "mailer", "mail-pass"
	m := SMTPMailer{Settings: s, TLSConfig: tlsConf, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	if err := m.SendMail(context.Background(), "alice@example.com", "Ünïcode subject", "line one\n.dot line\nlast"); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	msgs := f.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.Auth != "mailer:mail-pass" || got.From != "FROM:<plex@example.com>" || got.To != "TO:<alice@example.com>" {
		t.Errorf("envelope = %+v", got)
	}
	for _, want := range []string{"Subject: =?utf-8?q?", "To: <alice@example.com>", "Content-Type: text/plain; charset=utf-8", "\n.dot line\n", "Date: Sun, 01 Mar 2026 12:00:00 +0000"} {
		if !strings.Contains(strings.ReplaceAll(got.Data, "\r\n", "\n"), want) {
			t.Errorf("message lacks %q:\n%s", want, got.Data)
		}
	}

	// A password is never sent in clear.
	s.Security = "none"
	if err := (SMTPMailer{Settings: s}).SendMail(context.Background(), "a@example.com", "x", "y"); err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Errorf("login over plain text: %v", err)
	}
	// No login on a local relay works in plain text.
	s.Username, s.Password = "", ""
	if err := (SMTPMailer{Settings: s}).SendMail(context.Background(), "b@example.com", "x", "y"); err != nil {
		t.Errorf("plain relay: %v", err)
	}
	// An untrusted certificate is refused.
	s = base
	s.Security = "starttls"
	if err := (SMTPMailer{Settings: s}).SendMail(context.Background(), "a@example.com", "x", "y"); err == nil {
		t.Error("self-signed certificate accepted without being trusted")
	}
	f.rejectRcpt = true
	if err := (SMTPMailer{Settings: s, TLSConfig: tlsConf}).SendMail(context.Background(), "nobody@example.com", "x", "y"); err == nil || !strings.Contains(err.Error(), "RCPT") {
		t.Errorf("rejected recipient: %v", err)
	}
	for _, tt := range []struct {
		s  SMTPSettings
		to string
	}{{SMTPSettings{}, "a@example.com"}, {base, "not an address"}, {SMTPSettings{Host: "h", From: "bad"}, "a@example.com"}} {
		if err := (SMTPMailer{Settings: tt.s}).SendMail(context.Background(), tt.to, "x", "y"); err == nil {
			t.Errorf("SendMail(%+v, %q) succeeded", tt.s, tt.to)
		}
	}
}

func TestStatusToken(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	n, store, _ := newTestNotifier(t, func(o *Options) { o.Now = func() time.Time { return clock() } })
	tok, err := n.StatusToken(22526914, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := n.VerifyStatusToken(tok); err != nil || id != 22526914 {
		t.Fatalf("Verify = %d, %v", id, err)
	}
	// A new notifier on the same store (a reload) accepts it: the key is persisted.
	n2, err := New(Options{Store: store, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := n2.VerifyStatusToken(tok); err != nil || id != 22526914 {
		t.Errorf("after reload: %d, %v", id, err)
	}
	tampered := []byte(tok)
	tampered[3] ^= 1
	for _, bad := range []string{"", "abc", tok + "x", string(tampered), strings.Replace(tok, ".", "", 1), tok[:len(tok)-2]} {
		if _, err := n.VerifyStatusToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Verify(%q) = %v", bad, err)
		}
	}
	other, _, _ := newTestNotifier(t)
	if _, err := other.VerifyStatusToken(tok); !errors.Is(err, ErrBadToken) {
		t.Errorf("another installation's key accepted it: %v", err)
	}
	clock = func() time.Time { return now.Add(2 * time.Hour) }
	if _, err := n.VerifyStatusToken(tok); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired token: %v", err)
	}
}

func TestWarnUsers(t *testing.T) {
	f := newSMTPFake(t)
	rcv := newReceiver(t, 0, 0)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	dm := &fakeDM{}
	var n *Notifier
	purge := []storage.User{}
	n, store, _ := newTestNotifier(t, func(o *Options) {
		o.Now = func() time.Time { return now }
		o.DM = dm
		o.StatusURL = func(tok string) string { return "https://join.example.com/access/" + tok }
		o.PurgeCandidates = func(context.Context) ([]storage.User, error) { return purge, nil }
		o.Record = func(ev storage.Event) error {
			stored, err := o.Store.AppendEvent(ev)
			if err == nil {
				n.Notify(stored) // the root's hook after event append
			}
			return err
		}
		o.Mailer = SMTPMailer{Settings: SMTPSettings{Host: "127.0.0.1", Port: f.port(), Security: "none", From: "plex@example.com"}}
	})
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, u := range []storage.User{
		{ID: 1001, Username: "alice", Email: "alice@example.com", DiscordID: "111", ExpiresAt: in(3 * 24 * time.Hour)},
		{ID: 1002, Username: "bob", Email: "bob@example.com", ExpiresAt: in(30 * 24 * time.Hour)},       // too far
		{ID: 1003, Username: "carol", ExpiresAt: in(2 * 24 * time.Hour), Status: storage.StatusExpired}, // not active
		{ID: 1004, Username: "dave", ExpiresAt: in(24 * time.Hour)},                                     // no contact
	} {
		u.Kind = storage.KindFriend
		if u.Status == "" {
			u.Status = storage.StatusActive
		}
		if err := store.PutUser(u); err != nil {
			t.Fatal(err)
		}
	}
	last := now.Add(-100 * 24 * time.Hour)
	purge = []storage.User{{ID: 1005, Username: "erin", Email: "erin@example.com", LastActivityAt: &last}}
	if _, err := n.SaveSettings("admin:root", Settings{
		Kinds: []string{KindAccessExpiring}, WebhookURL: rcv.srv.URL, WarnDays: 7, WarnPurge: true, WarnEmail: true, WarnDiscord: true,
		SMTP: SMTPSettings{Host: "127.0.0.1", From: "plex@example.com"},
	}); err != nil {
		t.Fatal(err)
	}

	rep, err := n.WarnUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Expiring != 2 || rep.Purge != 1 || rep.Emails != 2 || rep.DMs != 1 || len(rep.Failures) != 0 {
		t.Errorf("report = %+v", rep)
	}
	msgs := f.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d e-mails", len(msgs))
	}
	var alice, erin string
	for _, m := range msgs {
		switch m.To {
		case "TO:<alice@example.com>":
			alice = m.Data
		case "TO:<erin@example.com>":
			erin = m.Data
		}
	}
	if !strings.Contains(alice, "ends on Wednesday 4 March 2026") || !strings.Contains(alice, "in 3 days") {
		t.Errorf("alice's e-mail:\n%s", alice)
	}
	tok := regexp.MustCompile(`https://join\.example\.com/access/([A-Za-z0-9_.-]+)`).FindStringSubmatch(alice)
	if tok == nil {
		t.Fatalf("no status link in:\n%s", alice)
	}
	if id, err := n.VerifyStatusToken(tok[1]); err != nil || id != 1001 {
		t.Errorf("status link = %d, %v", id, err)
	}
	if !strings.Contains(erin, "since 21 November 2025") || !strings.Contains(erin, "/access/") {
		t.Errorf("erin's e-mail:\n%s", erin)
	}
	if d := dm.get("111"); len(d) != 1 || !strings.Contains(d[0], "Your Plex access ends") {
		t.Errorf("alice's DM = %v", d)
	}
	// The admins were told about the expiring users through the normal notification path.
	n.Flush(context.Background())
	bodies, _ := rcv.requests()
	if len(bodies) != 2 || !strings.Contains(string(bodies[0]), "access_expiring") {
		t.Errorf("admin notifications = %d", len(bodies))
	}
	warned := events(t, store, EventUserWarned)
	if len(warned) != 3 {
		t.Errorf("warned events = %d, want 3 (alice, dave without contact, erin)", len(warned))
	}

	// A second run sends nothing again.
	rep, err = n.WarnUsers(context.Background())
	if err != nil || rep.Expiring != 0 || rep.Purge != 0 || len(f.messages()) != 2 {
		t.Errorf("second run: %+v %v, %d e-mails", rep, err, len(f.messages()))
	}
	// A new expiry date warns again.
	if _, err := store.UpdateUser(1001, func(u *storage.User) error { u.ExpiresAt = in(5 * 24 * time.Hour); return nil }); err != nil {
		t.Fatal(err)
	}
	dm.fail = errors.New("discord down")
	rep, err = n.WarnUsers(context.Background())
	if err != nil || rep.Expiring != 1 || rep.Emails != 1 || len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0], "discord down") {
		t.Errorf("after a new expiry: %+v %v", rep, err)
	}
}

func TestSettingsValidateMaskAndSeal(t *testing.T) {
	bad := []struct {
		s     Settings
		field string
	}{
		{Settings{Kinds: []string{"nope"}}, "kinds"},
		{Settings{WebhookURL: "ftp://x"}, "webhook_url"},
		{Settings{WebhookURL: "/relative"}, "webhook_url"},
		{Settings{WebhookURL: "http://:"}, "webhook_url"},
		{Settings{WebhookURL: "https://:8443/hook"}, "webhook_url"},
		{Settings{DiscordWebhookURL: "https://user@:443/api/webhooks/1/x"}, "discord_webhook_url"},
		{Settings{DiscordWebhookURL: "not a url"}, "discord_webhook_url"},
		{Settings{ShoutrrrURLs: []string{"nosuchservice://x"}}, "shoutrrr_urls"},
		{Settings{WarnDays: 91}, "warn_days"},
		{Settings{WarnEmail: true}, "smtp.host"},
		{Settings{SMTP: SMTPSettings{Security: "ssl"}}, "smtp.security"},
		{Settings{SMTP: SMTPSettings{From: "nope"}}, "smtp.from"},
		{Settings{SMTP: SMTPSettings{Port: 70000}}, "smtp.port"},
	}
	for _, tt := range bad {
		err := tt.s.Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("Validate(%+v) = %v, want a %s error", tt.s, err, tt.field)
		}
	}
	good := Settings{Kinds: []string{KindUserJoined, " " + KindServerOffline, KindUserJoined}, ShoutrrrURLs: []string{" ", "generic+https://h/x"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(good.Kinds, ",") != "server_offline,user_joined" || len(good.ShoutrrrURLs) != 1 || good.SMTP.Security != "starttls" {
		t.Errorf("normalised = %+v", good)
	}

	key, err := storage.LoadOrCreateKey(t.TempDir() + "/key")
	if err != nil {
		t.Fatal(err)
	}
	n, store, _ := newTestNotifier(t, func(o *Options) { o.Sealer = key })
	secrets := Settings{WebhookURL: "https://hooks.example.com/x", WebhookSecret: "whsec-123456", DiscordWebhookURL: "https://discord.com/api/webhooks/1/dsc-token-987",
		ShoutrrrURLs: []string{"telegram://123456:tg-token-abc@telegram?chats=@chan"}, SMTP: SMTPSettings{Host: "smtp.example.com", From: "a@example.com", Password: "smtp-pass-555"}}
	if _, err := n.SaveSettings("admin:root", secrets); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := store.GetSetting(SettingName, &raw); err != nil {
		t.Fatal(err)
	}
	rawText := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(toJSON(t, raw), `"`, " "), ",", " ")), " "))
	for _, s := range []string{"whsec-123456", "dsc-token-987", "tg-token-abc", "smtp-pass-555"} {
		if strings.Contains(rawText, s) {
			t.Errorf("secret %q stored in clear", s)
		}
	}
	pub := n.mustSettings(t).Public()
	shown := toJSON(t, pub)
	for _, s := range []string{"whsec-123456", "dsc-token-987", "tg-token-abc", "smtp-pass-555", "123456"} {
		if strings.Contains(shown, s) {
			t.Errorf("Public shows %q: %s", s, shown)
		}
	}
	// Saving the masked form back keeps every secret.
	pub.Kinds = []string{KindStreamKilled}
	if _, err := n.SaveSettings("admin:root", pub); err != nil {
		t.Fatal(err)
	}
	n2, err := New(Options{Store: store, Sealer: key})
	if err != nil {
		t.Fatal(err)
	}
	got := n2.mustSettings(t)
	if got.WebhookSecret != "whsec-123456" || got.DiscordWebhookURL != secrets.DiscordWebhookURL || got.SMTP.Password != "smtp-pass-555" ||
		len(got.ShoutrrrURLs) != 1 || got.ShoutrrrURLs[0] != secrets.ShoutrrrURLs[0] || got.Kinds[0] != KindStreamKilled {
		t.Errorf("after saving the masked form: %+v", got)
	}
	// Without the key the sealed settings cannot be read.
	n3, _ := New(Options{Store: store})
	if _, err := n3.Settings(); err == nil {
		t.Error("sealed settings read without a key")
	}
	if evs := events(t, store, "settings.notify_changed"); len(evs) != 2 || evs[0].Actor != "admin:root" || strings.Contains(toJSON(t, evs), "whsec") {
		t.Errorf("settings events = %+v", evs)
	}
}

func (n *Notifier) mustSettings(t *testing.T) Settings {
	t.Helper()
	s, err := n.Settings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
