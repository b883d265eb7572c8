package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// SettingName is the storage setting that holds the Settings.
const SettingName = "notify"

// Sealer encrypts secrets at rest; *storage.Sealer implements it.
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// Settings are the notification settings. Secret fields are sealed in the store when a Sealer is
// configured; Public() blanks them for display.
type Settings struct {
	// Kinds are the notification kinds the admins want.
	Kinds []string `json:"kinds,omitempty"`
	// WebhookURL receives signed JSON; WebhookSecret is the HMAC key (secret).
	WebhookURL    string `json:"webhook_url,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// DiscordWebhookURL is a Discord channel webhook (secret: the URL is the credential).
	DiscordWebhookURL string `json:"discord_webhook_url,omitempty"`
	// ShoutrrrURLs are shoutrrr service URLs, one per channel (secret: they carry credentials).
	ShoutrrrURLs []string `json:"shoutrrr_urls,omitempty"`

	// WarnDays warns users that many days before their access expires (0: no expiry warnings).
	WarnDays int `json:"warn_days,omitempty"`
	// WarnPurge warns users a purge would remove.
	WarnPurge bool `json:"warn_purge,omitempty"`
	// WarnEmail and WarnDiscord choose how users are warned.
	WarnEmail   bool `json:"warn_email,omitempty"`
	WarnDiscord bool `json:"warn_discord,omitempty"`
	// SMTP sends the e-mail warnings.
	SMTP SMTPSettings `json:"smtp,omitzero"`
}

// SMTPSettings configure the mail server.
type SMTPSettings struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	// Security is "starttls" (default), "tls" (implicit TLS, port 465) or "none" (only for a
	// relay on the same host or network).
	Security string `json:"security,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// From is the sender address ("Plex <plex@example.com>").
	From string `json:"from,omitempty"`
}

// Configured reports whether a mail server is set.
func (s SMTPSettings) Configured() bool { return s.Host != "" && s.From != "" }

// Wants reports whether the admins picked kind.
func (s Settings) Wants(kind string) bool { return slices.Contains(s.Kinds, kind) }

// Channels lists the configured channels: "webhook", "discord" and "shoutrrr:<n>" per URL.
func (s Settings) Channels() []string {
	var out []string
	if s.WebhookURL != "" {
		out = append(out, ChannelWebhook)
	}
	if s.DiscordWebhookURL != "" {
		out = append(out, ChannelDiscord)
	}
	for i := range s.ShoutrrrURLs {
		out = append(out, fmt.Sprintf("%s:%d", ChannelShoutrrr, i+1))
	}
	return out
}

// Public returns a copy safe to show: secrets replaced by a mask when set.
func (s Settings) Public() Settings {
	c := s
	c.Kinds = slices.Clone(s.Kinds)
	mask := func(v string) string {
		if v == "" {
			return ""
		}
		return Mask
	}
	c.WebhookSecret = mask(s.WebhookSecret)
	c.DiscordWebhookURL = mask(s.DiscordWebhookURL)
	c.SMTP.Password = mask(s.SMTP.Password)
	c.ShoutrrrURLs = nil
	for i, u := range s.ShoutrrrURLs {
		c.ShoutrrrURLs = append(c.ShoutrrrURLs, hideURL(u, i))
	}
	return c
}

// Mask stands for a secret that is set; saving it back keeps the stored secret.
const Mask = "••••••••"

// Merge returns next with every secret left as Mask (or, for shoutrrr URLs, left as shown by
// Public) replaced by the current secret, so a form that never shows secrets can be saved. A
// shoutrrr URL shown by Public names its channel ("generic://host/… (shoutrrr:2)"), so lines
// removed, added or moved keep the URL each stood for even when two URLs look alike once hidden.
// A hidden line that stands for no saved URL (or for several) is left as it is: Validate refuses it.
func (s Settings) Merge(next Settings) Settings {
	keep := func(nv, cur string) string {
		if nv == Mask {
			return cur
		}
		return nv
	}
	next.WebhookSecret = keep(next.WebhookSecret, s.WebhookSecret)
	next.DiscordWebhookURL = keep(next.DiscordWebhookURL, s.DiscordWebhookURL)
	next.SMTP.Password = keep(next.SMTP.Password, s.SMTP.Password)
	urls := make([]string, 0, len(next.ShoutrrrURLs))
	for _, u := range next.ShoutrrrURLs {
		urls = append(urls, s.savedURL(strings.TrimSpace(u)))
	}
	next.ShoutrrrURLs = urls
	return next
}

// savedURL returns the saved shoutrrr URL a posted line stands for, or the line itself. A line of
// the form Public shows names the channel; a bare hidden URL (as Public showed it before) stands
// for the saved URL that alone hides to it.
func (s Settings) savedURL(line string) string {
	if shown, n, ok := parseHiddenURL(line); ok {
		if n <= len(s.ShoutrrrURLs) && redactURL(s.ShoutrrrURLs[n-1]) == shown {
			return s.ShoutrrrURLs[n-1]
		}
		return line
	}
	match := ""
	for _, cur := range s.ShoutrrrURLs {
		if redactURL(cur) != line {
			continue
		}
		if match != "" && match != cur {
			return line
		}
		match = cur
	}
	if match == "" {
		return line
	}
	return match
}

// InputError names the field a validation error is about. Its message is fixed text (a line
// number at most): the settings page shows it, so it never repeats what was submitted.
type InputError struct {
	// Field is the form field ("webhook_url", "smtp.port", …).
	Field string
	// Message says what is wrong with it.
	Message string
}

// Error returns "field: message".
func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Validate checks the settings and normalises them (trimmed, kinds sorted and unique).
func (s *Settings) Validate() error {
	var kinds []string
	for _, k := range s.Kinds {
		k = strings.TrimSpace(k)
		if !validKind(k) {
			return &InputError{"kinds", "holds a kind of notification this server does not know"}
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	s.Kinds = kinds
	s.WebhookURL = strings.TrimSpace(s.WebhookURL)
	if s.WebhookURL != "" {
		if err := checkHTTPURL(s.WebhookURL); err != nil {
			return &InputError{"webhook_url", err.Error()}
		}
	}
	if len(s.WebhookSecret) > 256 {
		return &InputError{"webhook_secret", "must be at most 256 characters"}
	}
	s.DiscordWebhookURL = strings.TrimSpace(s.DiscordWebhookURL)
	if s.DiscordWebhookURL != "" {
		if err := checkHTTPURL(s.DiscordWebhookURL); err != nil {
			return &InputError{"discord_webhook_url", err.Error()}
		}
	}
	var urls []string
	for _, u := range s.ShoutrrrURLs {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if isHiddenURL(u) {
			return &InputError{"shoutrrr_urls", fmt.Sprintf("line %d is a hidden URL that stands for no saved URL (or for more than one): enter the full URL", len(urls)+1)}
		}
		if _, err := router.New(nil, u); err != nil {
			return &InputError{"shoutrrr_urls", fmt.Sprintf("line %d is not a service URL shoutrrr knows", len(urls)+1)}
		}
		urls = append(urls, u)
	}
	if len(urls) > 10 {
		return &InputError{"shoutrrr_urls", "at most 10 URLs"}
	}
	s.ShoutrrrURLs = urls
	if s.WarnDays < 0 || s.WarnDays > 90 {
		return &InputError{"warn_days", "must be between 0 and 90"}
	}
	m := &s.SMTP
	m.Host, m.From, m.Security = strings.TrimSpace(m.Host), strings.TrimSpace(m.From), strings.ToLower(strings.TrimSpace(m.Security))
	switch m.Security {
	case "":
		m.Security = "starttls"
	case "starttls", "tls", "none":
	default:
		return &InputError{"smtp.security", "must be starttls, tls or none"}
	}
	if m.Port < 0 || m.Port > 65535 {
		return &InputError{"smtp.port", "must be a TCP port"}
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			return &InputError{"smtp.from", "is not an e-mail address"}
		}
	}
	if s.WarnEmail && !m.Configured() {
		return &InputError{"smtp.host", "e-mail warnings need a mail server and a sender address"}
	}
	return nil
}

// checkHTTPURL accepts absolute http(s) URLs that name a host. A host of only a port ("http://:",
// "https://:8443/x") is refused: Go would post to the local machine.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errors.New("must be an absolute http(s) URL with a host name")
	}
	return nil
}

// hideURL shows the shoutrrr URL u of channel i (0-based) as Public does: redacted, and naming its
// channel, "generic://example.com/… (shoutrrr:2)". A line that already is such a hidden URL (a
// posted form shown again after a refusal) is shown as it is, so it keeps naming the URL it stood
// for.
func hideURL(u string, i int) string {
	if shown, _, ok := parseHiddenURL(u); ok && redactURL(shown) == shown {
		return u
	}
	return fmt.Sprintf("%s (%s:%d)", redactURL(u), ChannelShoutrrr, i+1)
}

// parseHiddenURL splits a line hideURL made into the hidden URL and the channel number (1-based).
func parseHiddenURL(line string) (shown string, n int, ok bool) {
	rest, ok := strings.CutSuffix(line, ")")
	if !ok {
		return "", 0, false
	}
	marker := " (" + ChannelShoutrrr + ":"
	i := strings.LastIndex(rest, marker)
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+len(marker):])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return rest[:i], n, true
}

// isHiddenURL reports whether line is a URL as Public shows it rather than a service URL: it
// names a channel, or it is its own redaction and has a "…" in it.
func isHiddenURL(line string) bool {
	if _, _, ok := parseHiddenURL(line); ok {
		return true
	}
	return strings.Contains(line, "…") && redactURL(line) == line
}

// redactURL shows a URL's scheme and host only, e.g. "telegram://…@telegram".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "[invalid URL]"
	}
	host := u.Host
	if u.User != nil {
		host = "…@" + host
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return u.Scheme + "://" + host + "/…"
	}
	return u.Scheme + "://" + host
}

// sealedFields lists pointers to the secret fields of s.
func (s *Settings) sealedFields() []*string {
	fields := []*string{&s.WebhookSecret, &s.DiscordWebhookURL, &s.SMTP.Password}
	for i := range s.ShoutrrrURLs {
		fields = append(fields, &s.ShoutrrrURLs[i])
	}
	return fields
}

// loadSettings reads the settings, opening sealed secrets.
func loadSettings(store *storage.Store, sealer Sealer) (Settings, error) {
	var s Settings
	err := store.GetSetting(SettingName, &s)
	if errors.Is(err, storage.ErrNotFound) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("reading notification settings: %w", err)
	}
	for _, f := range s.sealedFields() {
		if *f == "" || !storage.IsSealed(*f) {
			continue
		}
		if sealer == nil {
			return Settings{}, errors.New("notification settings are sealed but no sealing key is configured")
		}
		plain, err := sealer.Open(*f)
		if err != nil {
			return Settings{}, fmt.Errorf("opening a sealed notification secret: %w", err)
		}
		*f = plain
	}
	return s, nil
}

// saveSettings stores the settings, sealing secrets when a sealer is given.
func saveSettings(store *storage.Store, sealer Sealer, s Settings) error {
	s.Kinds = slices.Clone(s.Kinds)
	s.ShoutrrrURLs = slices.Clone(s.ShoutrrrURLs)
	if sealer != nil {
		for _, f := range s.sealedFields() {
			if *f == "" {
				continue
			}
			sealed, err := sealer.Seal(*f)
			if err != nil {
				return fmt.Errorf("sealing a notification secret: %w", err)
			}
			*f = sealed
		}
	}
	if err := store.PutSetting(SettingName, s); err != nil {
		return fmt.Errorf("saving notification settings: %w", err)
	}
	return nil
}
