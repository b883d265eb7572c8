package notify

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
)

// shoutrrrChannel sends through one shoutrrr service URL.
type shoutrrrChannel struct {
	label   string
	url     string
	timeout time.Duration
}

func (s shoutrrrChannel) name() string { return s.label }

func (s shoutrrrChannel) send(ctx context.Context, m Message) error {
	r, err := router.New(nil, s.url)
	if err != nil {
		return &deliveryError{msg: scrub(err.Error(), s.url)}
	}
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	r.Timeout = max(timeout, time.Second)
	text := m.Title
	if m.Text != "" {
		text += ": " + m.Text
	}
	params := types.Params{"title": m.Title}
	for _, err := range r.Send(text, &params) {
		if err != nil {
			return &deliveryError{msg: scrub(err.Error(), s.url), retry: true}
		}
	}
	return nil
}

// scrub removes a service URL and its credentials (user info, path segments, query values) from
// an error text.
func scrub(text, raw string) string {
	text = strings.ReplaceAll(text, raw, redactURL(raw))
	u, err := url.Parse(raw)
	if err != nil {
		return text
	}
	var secrets []string
	if u.User != nil {
		secrets = append(secrets, u.User.Username())
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	secrets = append(secrets, strings.Split(u.Path, "/")...)
	for _, vs := range u.Query() {
		secrets = append(secrets, vs...)
	}
	for _, s := range secrets {
		if len(s) >= 6 {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	return text
}
