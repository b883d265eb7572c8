package plex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Accept header values.
const (
	acceptJSON  = "application/json"
	acceptXML   = "application/xml"
	acceptImage = "image/*"
)

// call describes one API request before it is sent.
type call struct {
	method string
	// base is the scheme://host[/prefix] to send to (plex.tv or a PMS).
	base string
	// pms marks Plex Media Server routes: their endpoint label starts with
	// "{pms}" because the host differs per server.
	pms bool
	// path is the escaped path, ids filled in.
	path string
	// route is the path template used in CallInfo and errors, e.g.
	// "/api/v2/shared_servers/{id}". It never holds ids or tokens.
	route string
	// query is the encoded query string without "?". It never holds a token.
	query string
	// token goes in the X-Plex-Token header; empty means none.
	token string
	// accept is the Accept header.
	accept string
	// body and contentType describe the request body, if any.
	body        []byte
	contentType string
	// idempotent calls are retried on server errors, timeouts and connection
	// errors; every call is retried on 429.
	idempotent bool
	// noRetry disables every retry (WaitPIN does its own pacing).
	noRetry bool
	// header holds extra headers (paging).
	header http.Header
	// maxBody overrides the client's body limit when positive.
	maxBody int64
}

// endpoint returns the route template used in CallInfo and errors.
func (r *call) endpoint() string {
	if r.pms {
		return r.method + " {pms}" + r.route
	}
	return r.method + " " + r.route
}

// response is a received HTTP response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// tvCall starts a call to plex.tv.
func (c *Client) tvCall(method, route, path string) *call {
	return &call{
		method:     method,
		base:       c.tv.String(),
		route:      route,
		path:       path,
		idempotent: method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete || method == http.MethodHead,
	}
}

// do sends the call with retries and returns the response when the status
// is 2xx. On failure it returns an *Error and, when a response arrived, that
// response too (so callers can refine the kind from the status and code).
func (c *Client) do(ctx context.Context, r *call) (*response, error) {
	retries := c.cfg.Retries
	if r.noRetry {
		retries = 0
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, err, retryable, retryAfter := c.attempt(ctx, r)
		if c.cfg.Observe != nil {
			info := CallInfo{Endpoint: r.endpoint(), Duration: time.Since(start), Attempt: attempt}
			if resp != nil {
				info.Status = resp.status
			}
			if err != nil {
				info.Err = err
			}
			c.cfg.Observe(info)
		}
		if err == nil {
			return resp, nil
		}
		if !retryable || attempt > retries || ctx.Err() != nil {
			return resp, err
		}
		wait := c.backoff(attempt, retryAfter)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, &Error{Kind: ErrOffline, Endpoint: r.endpoint(), Message: "call cancelled while waiting to retry", Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// attempt sends the request once. It reports whether a failure may be
// retried and any Retry-After delay the server asked for.
func (c *Client) attempt(ctx context.Context, r *call) (resp *response, err error, retryable bool, retryAfter time.Duration) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	target := strings.TrimRight(r.base, "/") + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, rerr := http.NewRequestWithContext(actx, r.method, target, body)
	if rerr != nil {
		return nil, &Error{Kind: ErrInvalidArgument, Endpoint: r.endpoint(), Message: "could not build the request (bad base URL or path)"}, false, 0
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		req.Header.Set("X-Plex-Token", r.token)
	}

	hresp, herr := c.http.Do(req)
	if herr != nil {
		return nil, c.transportError(ctx, actx, r, herr), r.idempotent && ctx.Err() == nil, 0
	}
	defer hresp.Body.Close()

	limit := c.cfg.MaxBodyBytes
	if r.maxBody > 0 {
		limit = r.maxBody
	}
	data, rdErr := io.ReadAll(io.LimitReader(hresp.Body, limit+1))
	resp = &response{status: hresp.StatusCode, header: hresp.Header, body: data}
	if rdErr != nil {
		return resp, c.transportError(ctx, actx, r, rdErr), r.idempotent && ctx.Err() == nil, 0
	}
	if int64(len(data)) > limit {
		resp.body = data[:limit]
		return resp, &Error{Kind: ErrBadResponse, Status: hresp.StatusCode, Endpoint: r.endpoint(),
			Message: fmt.Sprintf("response larger than %d bytes", limit)}, false, 0
	}
	if hresp.StatusCode >= 200 && hresp.StatusCode < 300 {
		return resp, nil, false, 0
	}
	e := statusError(r, resp)
	switch {
	case hresp.StatusCode == http.StatusTooManyRequests:
		return resp, e, true, parseRetryAfter(hresp.Header.Get("Retry-After"), time.Now())
	case hresp.StatusCode >= 500:
		return resp, e, r.idempotent, 0
	}
	return resp, e, false, 0
}

// statusError builds the *Error for a non-2xx response, using the code and
// message Plex put in the body when there is one.
func statusError(r *call, resp *response) *Error {
	code, msg := parseErrorBody(resp.body)
	msg = cleanMessage(msg, r.token)
	if msg == "" {
		msg = defaultMessage(resp.status)
	}
	kind := kindForStatus(resp.status)
	// The legacy account route answers 422 "Invalid token".
	if resp.status == 422 && strings.Contains(strings.ToLower(msg), "invalid token") {
		kind = ErrUnauthorized
	}
	if looksLikeUnverifiedEmail(msg) {
		kind = ErrUnverifiedEmail
	}
	return &Error{Kind: kind, Status: resp.status, Code: code, Endpoint: r.endpoint(), Message: msg}
}

// looksLikeUnverifiedEmail recognises plex.tv's refusal for an account whose
// email address is not verified.
func looksLikeUnverifiedEmail(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "verif") && strings.Contains(m, "email")
}

// transportError describes a failure without a usable response. It never
// includes the request URL: *url.Error is unwrapped to its cause.
func (c *Client) transportError(ctx, actx context.Context, r *call, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &Error{Kind: ErrOffline, Endpoint: r.endpoint(), Err: err}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		e.Message = "call cancelled"
		e.Err = ctx.Err()
	case actx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.Message = fmt.Sprintf("no answer within %s", c.cfg.Timeout)
		e.Err = context.DeadlineExceeded
	default:
		e.Message = "could not reach Plex: " + cleanMessage(err.Error(), r.token)
	}
	return e
}

// backoff returns the delay before retry number attempt (1-based):
// exponential from BaseBackoff, capped at MaxBackoff, with jitter in the
// upper half, and at least the server's Retry-After (also capped).
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.cfg.BaseBackoff
	for i := 1; i < attempt && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	half := d / 2
	d = half + rand.N(half+1)
	if retryAfter > d {
		d = min(retryAfter, c.cfg.MaxBackoff)
	}
	return d
}

// maxRetryAfter caps the delay parseRetryAfter returns; the retry loop caps
// it again at MaxBackoff.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header, in delay-seconds or as an HTTP
// date relative to now. The result is never negative and at most
// maxRetryAfter; a value too large to represent is the cap, not 0 (and never
// wraps around to a negative duration).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // out of range: as long as allowed
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxMessage bounds a message taken from Plex, in bytes.
const maxMessage = 300

// cleanMessage makes text from Plex safe to put in an error: it removes the
// token if Plex echoed it, cuts the query off anything that looks like a URL,
// drops control characters and caps the length (cut between characters).
func cleanMessage(msg, token string) string {
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	fields := strings.Fields(msg)
	for i, f := range fields {
		// Drop the query of anything that looks like a URL or a path.
		if q := strings.IndexByte(f, '?'); q > 0 && (strings.Contains(f[:q], "://") || strings.HasPrefix(f, "/")) {
			fields[i] = f[:q] + "?…"
		}
	}
	msg = strings.Join(fields, " ")
	if len(msg) > maxMessage {
		msg = truncate(msg, maxMessage-len("…"))
	}
	return msg
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// idSegment formats a numeric id as a path segment.
func idSegment(id int64) string { return strconv.FormatInt(id, 10) }
