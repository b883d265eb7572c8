package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzTolerance is the replay window the signature fuzz verifies with.
const fuzzTolerance = 5 * time.Minute

// FuzzVerifySignature checks VerifySignature against what the sender produces:
//   - completeness: a delivery signed by Sign, received within the tolerance, is accepted; the
//     same delivery with another body or under another secret is refused;
//   - soundness: whatever the headers hold, an accepted delivery is one the sender could have
//     sent — the timestamp header is the decimal text Sign covered (a receiver written from the
//     documentation, which signs "<timestamp header>.<body>", must agree), the signature is
//     Sign's, and the timestamp is within the tolerance of now;
//   - failures are ErrStale or ErrBadSignature, nothing else, and never a panic.
//
// signRead makes the harness sign the timestamp VerifySignature will read (when it parses), so
// the fuzzer can reach past the HMAC check; otherwise sigText is used as is.
func FuzzVerifySignature(f *testing.F) {
	f.Add("s3cret", int64(1_700_000_000), []byte(`{"kind":"test"}`), "1700000000", true, "", int64(0))
	f.Add("", int64(1_700_000_000), []byte{}, "1700000100", true, "", int64(0))
	f.Add("k", int64(1_700_000_000), []byte("x"), "1699999000", true, "", int64(5))
	f.Add("k", int64(1_700_000_000), []byte("x"), "1700000000", false, "v1=00", int64(0))
	f.Add("k", int64(0), []byte("x"), "-1", true, "", int64(0))
	f.Add("k", int64(1_700_000_000), []byte("x"), "9223372036854775807", true, "", int64(0))
	f.Add("k", int64(1_700_000_000), []byte("x"), "", false, "", int64(-300))
	// Found by this target: a leading zero was read as the same time and accepted.
	f.Add("0", int64(1_700_000_000), []byte("0"), "01700000000", true, "0", int64(0))
	f.Add("0", int64(1_700_000_000), []byte("0"), "+1700000000", true, "0", int64(0))
	f.Fuzz(func(t *testing.T, secret string, now int64, body []byte, tsText string, signRead bool, sigText string, skew int64) {
		// A real clock: between 1970 and the year 36,812.
		now = int64(uint64(now) % (1 << 40))
		at := time.Unix(now, 0)

		// Completeness, with the receiver's clock up to the tolerance away from the sender's.
		sentAt := now + skew%int64(fuzzTolerance/time.Second+1)
		h := http.Header{}
		h.Set(HeaderTimestamp, strconv.FormatInt(sentAt, 10))
		h.Set(HeaderSignature, Sign(secret, sentAt, body))
		if err := VerifySignature(secret, h, body, at, fuzzTolerance); err != nil {
			t.Fatalf("a signed delivery %ds off was refused: %v", sentAt-now, err)
		}
		if err := VerifySignature(secret, h, append(bytes.Clone(body), '!'), at, fuzzTolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("another body: %v, want ErrBadSignature", err)
		}
		if err := VerifySignature(secret+"x", h, body, at, fuzzTolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("another secret: %v, want ErrBadSignature", err)
		}

		// Soundness for any header values.
		sig := sigText
		read, readErr := strconv.ParseInt(tsText, 10, 64)
		if signRead && readErr == nil {
			sig = Sign(secret, read, body)
		}
		h = http.Header{}
		h.Set(HeaderTimestamp, tsText)
		h.Set(HeaderSignature, sig)
		err := VerifySignature(secret, h, body, at, fuzzTolerance)
		if err != nil {
			if !errors.Is(err, ErrStale) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error %v is neither ErrStale nor ErrBadSignature", err)
			}
			return
		}
		sent, perr := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
		if perr != nil || strconv.FormatInt(sent, 10) != h.Get(HeaderTimestamp) {
			t.Fatalf("accepted timestamp header %q, which the sender never writes (it signs %q)", h.Get(HeaderTimestamp), strconv.FormatInt(sent, 10))
		}
		if want := Sign(secret, sent, body); sig != want {
			t.Fatalf("accepted signature %q, want %q", sig, want)
		}
		if d := sent - now; d > int64(fuzzTolerance/time.Second) || d < -int64(fuzzTolerance/time.Second) {
			t.Fatalf("accepted a timestamp %ds from now", d)
		}
	})
}

// answerTransport answers every request with a fixed response, without a network.
type answerTransport struct {
	status int
	header http.Header
	body   []byte
}

func (a answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body)),
		Request: r, ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// fuzzSecretAlphabet is what the fuzzed webhook tokens are made of (URL-safe, like Discord's).
const fuzzSecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// FuzzPostJSONAnswer feeds postJSON arbitrary answers from a webhook receiver — status,
// Retry-After, and a body that may echo the target URL the way servers do (raw, JSON-encoded,
// with escaped slashes, the path alone as in "Cannot POST /path", the token alone,
// percent-encoded) — and checks that:
//   - 2xx is a success and anything else a *deliveryError, retryable exactly for 429 and 5xx;
//   - the error never contains the target URL nor its secret token (the URL is a credential:
//     Discord webhook URLs end in the webhook token);
//   - the wait read from Retry-After is never negative and never shorter than the server asked
//     (up to an hour).
func FuzzPostJSONAnswer(f *testing.F) {
	f.Add(404, "", []byte("not found"), byte(0), []byte("tok_abcdefghijklmnop"), []byte(""))
	f.Add(429, "3", []byte(`{"message":"slow down","retry_after":1.5}`), byte(0), []byte("AbCdEf123456"), []byte(""))
	f.Add(500, "", []byte("error at "), byte(1), []byte("0123456789abcdef"), []byte(" sorry"))
	f.Add(503, "120", []byte("<pre>busy</pre>"), byte(0), []byte("ZZZZZZZZZZ"), []byte(""))
	f.Add(200, "", []byte(""), byte(0), []byte("abcdefgh"), []byte(""))
	// Found by this target: an answer that quotes the token (echo 5) was shown in the error.
	f.Add(404, "", []byte("0"), byte('6'), []byte("0"), []byte(""))
	// Servers asking for very long waits (the header in seconds, Discord's body in seconds).
	f.Add(503, "10000000000", []byte("busy"), byte(0), []byte("abcdefgh"), []byte(""))
	f.Add(429, "", []byte(`{"retry_after":1e12}`), byte(0), []byte("abcdefgh"), []byte(""))
	f.Fuzz(func(t *testing.T, status int, retryAfterHdr string, prefix []byte, echo byte, tokenSeed []byte, suffix []byte) {
		if status < 200 || status > 599 {
			status = 200 + int(uint(status)%400)
		}
		token := fuzzToken(tokenSeed)
		target := "https://hooks.example.com/api/webhooks/1234567890/" + token + "?wait=true"
		u, _ := url.Parse(target)
		var shown string
		switch echo % 7 {
		case 1:
			shown = target
		case 2:
			b, _ := json.Marshal(target)
			shown = string(b)
		case 3:
			shown = strings.ReplaceAll(target, "/", `\/`)
		case 4:
			shown = "Cannot POST " + u.Path
		case 5:
			shown = token
		case 6:
			shown = url.QueryEscape(target)
		}
		body := append(append(bytes.Clone(prefix), shown...), suffix...)
		h := http.Header{"Content-Type": {"application/json"}}
		if retryAfterHdr != "" {
			h.Set("Retry-After", retryAfterHdr)
		}
		hc := &http.Client{Transport: answerTransport{status: status, header: h, body: body}}
		err := postJSON(context.Background(), hc, target, []byte(`{}`), nil)
		if status < 300 {
			if err != nil {
				t.Fatalf("HTTP %d: %v", status, err)
			}
			return
		}
		var de *deliveryError
		if !errors.As(err, &de) {
			t.Fatalf("HTTP %d: error %T %v is not a delivery error", status, err, err)
		}
		if want := status == 429 || status >= 500; de.retry != want {
			t.Fatalf("HTTP %d: retry %v, want %v", status, de.retry, want)
		}
		if msg := err.Error(); strings.Contains(msg, target) || strings.Contains(msg, token) {
			t.Fatalf("HTTP %d: the error shows the webhook token: %q", status, msg)
		}
		if de.retryAfter < 0 {
			t.Fatalf("Retry-After %q: negative wait %v", retryAfterHdr, de.retryAfter)
		}
		if secs, perr := strconv.Atoi(strings.TrimSpace(retryAfterHdr)); perr == nil && secs > 0 {
			if want := time.Duration(min(secs, 3600)) * time.Second; de.retryAfter < want {
				t.Fatalf("Retry-After %q: waits %v, less than %v", retryAfterHdr, de.retryAfter, want)
			}
		}
	})
}

// fuzzToken turns fuzz bytes into a webhook token of 8 to 68 URL-safe characters.
func fuzzToken(seed []byte) string {
	var b strings.Builder
	b.WriteString("tk")
	for i := 0; i < len(seed) && i < 60; i++ {
		b.WriteByte(fuzzSecretAlphabet[int(seed[i])%len(fuzzSecretAlphabet)])
	}
	for b.Len() < 8 {
		b.WriteByte('x')
	}
	return b.String()
}
