package notify

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzSettingsValidateURLs feeds Settings.Validate arbitrary webhook, Discord webhook and
// shoutrrr URLs and a webhook secret (what an admin types in the settings form) and checks that:
//   - a refusal is an *InputError, never a panic;
//   - an accepted webhook URL can be delivered to: an http(s) request to a named host;
//   - validation is idempotent: the normalised settings validate again unchanged;
//   - Public shows no secret: the webhook secret and the Discord URL are masked, shoutrrr URLs
//     show no user info or query value;
//   - the settings form round trip keeps every secret: Merge(Public()) of the saved settings
//     gives back the saved secrets (the form shows Public and posts it back unchanged).
func FuzzSettingsValidateURLs(f *testing.F) {
	f.Add("https://example.com/hook", "https://discord.com/api/webhooks/1/tok", "generic://example.com/a?token=abcdef", "", "s3cret")
	f.Add(" http://127.0.0.1:8080/x ", "", "", "", "")
	f.Add("ftp://example.com/", "", "", "", "")
	f.Add("https://user:pass@example.com/", "", "generic+https://example.com/", "", "")
	f.Add("", "https://discord.com/api/webhooks/1/tok", "", "generic://example.com/", "••••••••")
	f.Add("", "", "generic://a.example.com/hooks/one", "generic://b.example.com/hooks/two", "")
	f.Add("http://:", "", "", "", "")
	f.Add("", "", "generic://example.com/hooks/aaaa1111", "generic://example.com/hooks/bbbb2222", "")
	f.Fuzz(func(t *testing.T, webhook, discordURL, shoutrrr1, shoutrrr2, secret string) {
		s := Settings{WebhookURL: webhook, WebhookSecret: secret, DiscordWebhookURL: discordURL, ShoutrrrURLs: []string{shoutrrr1, shoutrrr2}}
		if err := s.Validate(); err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Validate: %T %v is not an *InputError", err, err)
			}
			return
		}
		for _, raw := range []string{s.WebhookURL, s.DiscordWebhookURL} {
			if raw == "" {
				continue
			}
			req, err := http.NewRequest(http.MethodPost, raw, nil)
			if err != nil {
				t.Fatalf("accepted URL %q cannot be requested: %v", raw, err)
			}
			if (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Hostname() == "" {
				t.Fatalf("accepted URL %q names no http(s) host", raw)
			}
		}

		again := s
		again.Kinds, again.ShoutrrrURLs = slices.Clone(s.Kinds), slices.Clone(s.ShoutrrrURLs)
		if err := again.Validate(); err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("validating the validated settings: %v, %+v != %+v", err, again, s)
		}

		pub := s.Public()
		if pub.WebhookSecret != "" && pub.WebhookSecret != Mask || pub.DiscordWebhookURL != "" && pub.DiscordWebhookURL != Mask {
			t.Fatalf("Public shows a secret: %+v", pub)
		}
		for i, shown := range pub.ShoutrrrURLs {
			if hidden, _, ok := parseHiddenURL(shown); ok {
				shown = hidden // the channel name after it is fixed text
			}
			u, err := url.Parse(s.ShoutrrrURLs[i])
			if err != nil {
				continue
			}
			var secrets []string
			if u.User != nil {
				p, _ := u.User.Password()
				secrets = append(secrets, u.User.Username(), p)
			}
			for _, vs := range u.Query() {
				secrets = append(secrets, vs...)
			}
			for _, sec := range secrets {
				if len(sec) >= 6 && strings.Contains(shown, sec) && !strings.Contains(u.Scheme+"://"+u.Host, sec) {
					t.Fatalf("Public shows %q of shoutrrr URL %q as %q", sec, s.ShoutrrrURLs[i], shown)
				}
			}
		}

		back := s.Merge(pub)
		if back.WebhookSecret != s.WebhookSecret || back.DiscordWebhookURL != s.DiscordWebhookURL ||
			back.SMTP.Password != s.SMTP.Password || !slices.Equal(back.ShoutrrrURLs, s.ShoutrrrURLs) {
			t.Fatalf("saving the form unchanged lost a secret:\nsaved %q %q %q\nafter %q %q %q",
				s.WebhookSecret, s.DiscordWebhookURL, s.ShoutrrrURLs, back.WebhookSecret, back.DiscordWebhookURL, back.ShoutrrrURLs)
		}
	})
}
