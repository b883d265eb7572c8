package discordbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// What the requests do, named in errors.
const (
	opOpenDM = "opening a Discord DM channel"
	opSend   = "sending a Discord message"
	opCheck  = "reading the Discord bot user"
)

// maxAnswer caps an answer body; maxMessage cuts Discord's error message in errors.
const (
	maxAnswer  = 1 << 20
	maxMessage = 200
)

// do sends one API request with retries and decodes a 2xx answer into out (nil: ignored).
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s: encoding the request: %w", op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		answer, err := c.attempt(ctx, op, method, path, payload)
		if err == nil {
			if out == nil {
				return nil
			}
			if json.Unmarshal(answer, out) != nil {
				return fmt.Errorf("%s: %w", op, ErrBadAnswer)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		wait, retry := c.retryWait(err, attempt)
		if !retry || attempt >= c.retries {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// attempt sends the request once and returns a 2xx answer's body; other answers are *APIError,
// no answer a *transportError.
func (c *Client) attempt(ctx context.Context, op, method, path string, payload []byte) ([]byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s: building the request: %w", op, err)
	}
	req.Header.Set("Authorization", c.cred.auth)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &transportError{text: c.scrub(fmt.Sprintf("%s: no answer: %v", op, err)), cause: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &transportError{text: c.scrub(fmt.Sprintf("%s: reading the answer: %v", op, err)), cause: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer, nil
	}
	return nil, c.apiError(op, resp, answer)
}

// apiError reads Discord's error answer. A 401 marks the token as rejected.
func (c *Client) apiError(op string, resp *http.Response, answer []byte) *APIError {
	var body struct {
		Message    string   `json:"message"`
		Code       int      `json:"code"`
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	_ = json.Unmarshal(answer, &body)
	msg := strings.TrimSpace(body.Message)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e := &APIError{Op: op, Status: resp.StatusCode, Code: body.Code, Message: cut(c.scrub(msg), maxMessage)}
	e.Global = body.Global || strings.EqualFold(resp.Header.Get("X-RateLimit-Global"), "true") ||
		strings.EqualFold(resp.Header.Get("X-RateLimit-Scope"), "global")
	e.RetryAfter = retryAfter(body.RetryAfter, resp.Header)
	if resp.StatusCode == http.StatusUnauthorized {
		c.tokenRejected.Store(true)
	}
	return e
}

// retryAfter reads the wait Discord asks for: retry_after in the body (seconds, fractional),
// else the Retry-After header (seconds), else X-RateLimit-Reset-After (seconds). Values that
// are not finite non-negative numbers are ignored; huge ones are capped at a day.
func retryAfter(body *float64, h http.Header) time.Duration {
	candidates := []func() (float64, bool){
		func() (float64, bool) {
			if body == nil {
				return 0, false
			}
			return *body, true
		},
		func() (float64, bool) { return headerSeconds(h, "Retry-After") },
		func() (float64, bool) { return headerSeconds(h, "X-RateLimit-Reset-After") },
	}
	for _, get := range candidates {
		if secs, ok := get(); ok && !math.IsNaN(secs) && !math.IsInf(secs, 0) && secs >= 0 {
			return time.Duration(math.Round(min(secs, maxRetryAfter.Seconds())*1e6)) * time.Microsecond
		}
	}
	return 0
}

// maxRetryAfter caps a wait read from an answer (a larger one is beyond any retry budget anyway).
const maxRetryAfter = 24 * time.Hour

// headerSeconds parses a header holding seconds.
func headerSeconds(h http.Header, name string) (float64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// retryWait decides whether err is worth another attempt and after how long: a 429 after the
// wait it asks for (not when that exceeds MaxRetryWait), a 5xx or no answer after the backoff
// (or the Retry-After, if longer and within MaxRetryWait). Other answers are final.
func (c *Client) retryWait(err error, attempt int) (time.Duration, bool) {
	var apiErr *APIError
	var tErr *transportError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		wait := apiErr.RetryAfter
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		return wait, wait <= c.maxWait
	case errors.As(err, &apiErr) && apiErr.Status >= 500:
		wait := max(c.backoff(attempt), apiErr.RetryAfter)
		return wait, wait <= c.maxWait
	case errors.As(err, &tErr):
		return c.backoff(attempt), true
	}
	return 0, false
}

// backoff is the wait before retry attempt+1: BaseBackoff·2^attempt with ±20 % jitter, capped
// at MaxRetryWait.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseBackoff << min(attempt, 30)
	if d <= 0 || d > c.maxWait {
		d = c.maxWait
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return min(time.Duration(float64(d)*jitter), c.maxWait)
}

// scrub removes the token from a text that came back from the network.
func (c *Client) scrub(s string) string {
	return strings.ReplaceAll(s, c.cred.token, "[REDACTED]")
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
