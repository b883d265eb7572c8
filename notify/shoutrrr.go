package notify

import (
	"context"
	"net/url"
	"regexp"
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
		return &deliveryError{msg: scrub(err.Error(), s.url), reason: reasonServiceURL}
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
			return &deliveryError{msg: scrub(err.Error(), s.url), reason: reasonServiceFail, retry: true}
		}
	}
	return nil
}

// anyURL matches a URL in an error text, as Go's HTTP client quotes the one it requested.
var anyURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// scrub removes a service URL and its credentials (user info, path segments, query values) from
// an error text, and every URL in it: shoutrrr quotes the URL it built from the service URL
// (another scheme, the query partly left out), whose credentials may be too short to be
// replaced one by one.
func scrub(text, raw string) string {
	text = strings.ReplaceAll(text, raw, redactURL(raw))
	text = anyURL.ReplaceAllString(text, "[service URL]")
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
