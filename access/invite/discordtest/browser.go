package discordtest

import (
	"net/http"
	"net/url"
	"testing"
)

// Authorize opens authURL, an authorization URL of the fake, as a browser would and stops at the
// redirect back to the application: it returns that redirect's target (the redirect URI with the
// code or the error, and the state). It fails the test unless the fake answers 302.
func Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("opening the authorization URL: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: the redirect's Location: %v", err)
	}
	return loc
}
