package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	// HeaderTimestamp carries the Unix time of the delivery.
	HeaderTimestamp = "X-Plex-Manager-Timestamp"
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256 of "<timestamp>.<body>" under the
	// webhook secret (absent without a secret).
	HeaderSignature = "X-Plex-Manager-Signature"
	// HeaderKind carries the notification kind.
	HeaderKind = "X-Plex-Manager-Kind"
)

// userAgent identifies the deliveries.
const userAgent = "CaddyPlexManager-Notify/1"

// Sign returns the signature header value of body sent at unix time ts under secret.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of VerifySignature.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the tolerance")
)

// VerifySignature checks a delivery as a receiver should: the timestamp header must be the
// decimal text Sign covered (no sign, no leading zero — as a receiver that signs the header's own
// text would check), within tolerance of now (replays are refused), and the signature must match,
// compared in constant time.
func VerifySignature(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	raw := h.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != raw {
		return fmt.Errorf("%w: no valid %s header", ErrBadSignature, HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderSignature))) {
		return ErrBadSignature
	}
	return nil
}

// deliveryError is a failed attempt; retry says whether another attempt may succeed and after
// how long at least (Retry-After).
type deliveryError struct {
	// msg is the detail the admins see in the delivery log: reason and what the receiver
	// answered, redacted.
	msg string
	// reason is the kind of failure in fixed words ("HTTP 502", "no answer", "timed out"), with
	// nothing the receiver, the HTTP client or the URL put in: what the audit log records.
	reason     string
	retry      bool
	retryAfter time.Duration
}

func (e *deliveryError) Error() string { return e.msg }

// Reasons of failures other than an HTTP status.
const (
	reasonInvalidURL  = "invalid URL"
	reasonNoAnswer    = "no answer"
	reasonTimedOut    = "timed out"
	reasonCancelled   = "cancelled"
	reasonEncoding    = "the message could not be encoded"
	reasonServiceURL  = "invalid service URL"
	reasonServiceFail = "the service did not take the message"
	reasonUnknown     = "not delivered"
)

// failureReason describes a failed delivery in fixed words, never quoting an error's text: that
// may name the delivery URL, which is a credential (an HTTP client error quotes the URL it
// requested; a shoutrrr error quotes the URL it built from the service URL).
func failureReason(err error) string {
	var de *deliveryError
	switch {
	case errors.As(err, &de):
		return de.reason
	case errors.Is(err, context.DeadlineExceeded):
		return reasonTimedOut
	case errors.Is(err, context.Canceled):
		return reasonCancelled
	}
	return reasonUnknown
}

// permanent reports whether err is a delivery error that must not be retried.
func permanent(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && !de.retry
}

// retryAfterOf reads the wait a delivery error asks for.
func retryAfterOf(err error) time.Duration {
	var de *deliveryError
	if errors.As(err, &de) {
		return de.retryAfter
	}
	return 0
}

// postJSON sends body to target and classifies the answer: 2xx ok; 429 and 5xx retryable
// (honouring Retry-After in seconds); other statuses permanent. Network errors are retryable.
// Errors never contain the target URL or its credentials (it may be a credential), also when the
// answer quotes them.
func postJSON(ctx context.Context, hc *http.Client, target string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &deliveryError{msg: reasonInvalidURL, reason: reasonInvalidURL}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := hc.Do(req)
	if err != nil {
		reason := reasonNoAnswer
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = reasonTimedOut
		} else if errors.Is(err, context.Canceled) {
			reason = reasonCancelled
		}
		return &deliveryError{msg: reason, reason: reason, retry: true}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, answerReadLimit))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	reason := fmt.Sprintf("HTTP %d", resp.StatusCode)
	msg := reason
	if s := strings.TrimSpace(redactAnswer(string(snippet), target)); s != "" {
		msg += ": " + truncate(s, 200)
	}
	de := &deliveryError{msg: msg, reason: reason, retry: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		de.retryAfter = time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	}
	if resp.StatusCode == http.StatusTooManyRequests && de.retryAfter == 0 {
		// Discord puts the wait in the body.
		var d struct {
			RetryAfter float64 `json:"retry_after"`
		}
		if json.Unmarshal(snippet, &d) == nil && d.RetryAfter > 0 {
			de.retryAfter = time.Duration(min(d.RetryAfter, maxRetryAfter.Seconds()) * float64(time.Second))
		}
	}
	return de
}

// maxRetryAfter caps the wait an answer asks for (larger values would overflow a Duration and
// turn negative; the notifier caps its waits at MaxBackoff anyway).
const maxRetryAfter = 24 * time.Hour

// answerReadLimit is how much of an error answer is read: far more than the 200 bytes shown, so
// that a credential is redacted whole before the text is cut.
const answerReadLimit = 4096

// redactAnswer removes the target URL and its credentials — user info, path segments and query
// values of 6 characters or more — from a receiver's answer, in the forms servers quote them:
// as is, percent-encoded and JSON-escaped (many frameworks answer "Cannot POST /path", or echo
// the URL). Longer secrets go first so that none is left half replaced.
func redactAnswer(text, target string) string {
	text = strings.ReplaceAll(text, target, "[webhook URL]")
	u, err := url.Parse(target)
	if err != nil {
		return text
	}
	var parts []string
	if u.User != nil {
		p, _ := u.User.Password()
		parts = append(parts, u.User.Username(), p)
	}
	parts = append(parts, strings.Split(u.Path, "/")...)
	parts = append(parts, strings.Split(u.EscapedPath(), "/")...)
	for _, vs := range u.Query() {
		parts = append(parts, vs...)
	}
	var secrets []string
	for _, p := range parts {
		if len(p) < 6 {
			continue
		}
		quoted, _ := json.Marshal(p)
		secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p), string(quoted[1:len(quoted)-1]))
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		text = strings.ReplaceAll(text, s, "[REDACTED]")
	}
	return text
}

// truncate cuts s to n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// webhook is the generic signed JSON webhook.
type webhook struct {
	url    string
	secret string
	hc     *http.Client
	now    func() time.Time
}

func (w webhook) name() string { return ChannelWebhook }

func (w webhook) send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return &deliveryError{msg: "encoding the message: " + err.Error(), reason: reasonEncoding}
	}
	h := http.Header{}
	ts := w.now().Unix()
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderKind, m.Kind)
	if w.secret != "" {
		h.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	return postJSON(ctx, w.hc, w.url, body, h)
}

// discord posts to a Discord channel webhook.
type discord struct {
	url string
	hc  *http.Client
}

func (d discord) name() string { return ChannelDiscord }

// discordColor picks an embed colour per kind.
func discordColor(kind string) int {
	switch kind {
	case KindServerOffline, KindTokenInvalid, KindAccessExpired:
		return 0xd9534f
	case KindStreamKilled, KindAccessExpiring, KindPurgeDone:
		return 0xf0ad4e
	}
	return 0xe5a00d
}

func (d discord) send(ctx context.Context, m Message) error {
	payload := map[string]any{
		"username":         "Plex Manager",
		"allowed_mentions": map[string]any{"parse": []string{}},
		"embeds": []map[string]any{{
			"title":       truncate(m.Title, 256),
			"description": truncate(m.Text, 4000),
			"color":       discordColor(m.Kind),
			"timestamp":   m.At.UTC().Format(time.RFC3339),
		}},
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return &deliveryError{msg: "encoding the message: " + err.Error(), reason: reasonEncoding}
	}
	return postJSON(ctx, d.hc, d.url, body, nil)
}
