package events

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/notify"
)

// notifyView is the data of the notifications page.
type notifyView struct {
	Settings   notify.Settings
	Kinds      []kindOption
	Shoutrrr   string
	Channels   []string
	Deliveries []notify.Delivery
	Error      string
	Field      string
}

// kindOption is one checkbox.
type kindOption struct {
	notify.KindInfo
	Checked bool
}

// notifyData builds the page from settings s (already public: secrets masked).
func (f *Feature) notifyData(s notify.Settings) notifyView {
	v := notifyView{Settings: s, Shoutrrr: strings.Join(s.ShoutrrrURLs, "\n"), Channels: s.Channels(), Deliveries: f.notifier.Deliveries()}
	for _, k := range notify.Kinds() {
		v.Kinds = append(v.Kinds, kindOption{KindInfo: k, Checked: s.Wants(k.Kind)})
	}
	return v
}

// notifyPage renders the notification settings.
func (f *Feature) notifyPage(w http.ResponseWriter, r *http.Request) {
	s, err := f.notifier.Settings()
	if err != nil {
		web.FlashNow(r, web.FlashError, "The notification settings could not be read: "+err.Error())
	}
	web.SetNav(r, "settings")
	web.Render(w, r, "admin/events-notifications", f.notifyData(s.Public()))
}

// settingsFromForm reads the form; secrets left as the mask keep their stored value.
func settingsFromForm(r *http.Request) (notify.Settings, error) {
	form := r.PostForm
	s := notify.Settings{
		Kinds:             form["kinds"],
		WebhookURL:        form.Get("webhook_url"),
		WebhookSecret:     form.Get("webhook_secret"),
		DiscordWebhookURL: form.Get("discord_webhook_url"),
		WarnPurge:         form.Get("warn_purge") == "on",
		WarnEmail:         form.Get("warn_email") == "on",
		WarnDiscord:       form.Get("warn_discord") == "on",
		SMTP: notify.SMTPSettings{Host: form.Get("smtp_host"), Security: form.Get("smtp_security"),
			Username: form.Get("smtp_username"), Password: form.Get("smtp_password"), From: form.Get("smtp_from")},
	}
	for _, line := range strings.Split(form.Get("shoutrrr_urls"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			s.ShoutrrrURLs = append(s.ShoutrrrURLs, line)
		}
	}
	num := func(field string) (int, error) {
		v := strings.TrimSpace(form.Get(field))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, &notify.InputError{Field: field, Message: "must be a number"}
		}
		return n, nil
	}
	var err error
	if s.WarnDays, err = num("warn_days"); err != nil {
		return s, err
	}
	if s.SMTP.Port, err = num("smtp_port"); err != nil {
		return s, err
	}
	return s, nil
}

// notifySave stores the settings.
func (f *Feature) notifySave(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	s, err := settingsFromForm(r)
	if err == nil {
		_, err = f.notifier.SaveSettings(p.Actor(), s)
	}
	if err != nil {
		var ie *notify.InputError
		if !errors.As(err, &ie) {
			// Not the form's fault: the settings could not be read, sealed or stored.
			web.ServerError(w, r, nil, "saving the notification settings", err)
			return
		}
		// Show the form as it was posted: its secrets are either still the mask / hidden lines the
		// page showed, or what the admin just typed. Hiding the posted settings again would turn a
		// newly typed shoutrrr URL into a hidden line numbered by its place in the posted list, which
		// the next save would read as the saved URL of that number.
		v := f.notifyData(s)
		v.Error, v.Field = ie.Error(), ie.Field
		web.SetNav(r, "settings")
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/events-notifications", v)
		return
	}
	web.Flash(w, r, web.FlashSuccess, "Notification settings saved.")
	web.Redirect(w, r, "/notifications")
}

// notifyTest sends a test message to one channel.
func (f *Feature) notifyTest(w http.ResponseWriter, r *http.Request) {
	if !web.ParseForm(w, r) {
		return
	}
	p, _ := web.CurrentPrincipal(r)
	channel := r.PostForm.Get("channel")
	ctx := r.Context()
	err := f.notifier.Test(ctx, channel, p.Actor())
	switch {
	case errors.Is(err, notify.ErrNoChannel):
		web.Flash(w, r, web.FlashError, "That channel is not configured; save the settings first.")
	case err != nil:
		web.Flash(w, r, web.FlashError, "The test message to "+channel+" failed: "+err.Error())
	default:
		web.Flash(w, r, web.FlashSuccess, "Test message sent to "+channel+" at "+time.Now().UTC().Format("15:04:05")+" UTC.")
	}
	web.Redirect(w, r, "/notifications")
}
