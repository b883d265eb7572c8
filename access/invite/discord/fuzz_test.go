package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// The fuzz targets feed arbitrary answers from Discord to the sign-in: the token endpoint's
// answer (JSON or form-encoded, any status), the account and the guild pages. Run one with
// go test ./access/invite/discord -run '^$' -fuzz '^FuzzIdentify$' -fuzztime 45s -parallel 1.

// Seeds in the shapes Discord documents (and the discordtest fake answers with).
const (
	seedToken  = `{"access_token":"6qrZcUqja7812RVdnEKjpzOL4CvHBFG","token_type":"Bearer","expires_in":604800,"refresh_token":"D43f5y0ahjqew82jZ4NViEr2YafMKhue","scope":"identify guilds"}`
	seedUser   = `{"id":"80351110224678912","username":"nelly","discriminator":"0","global_name":null,"avatar":"8342729096ea3675442027381ff50dfe","verified":true,"flags":64,"public_flags":64}`
	seedGuilds = `[{"id":"80351110224678912","name":"1337 Krew","icon":null,"owner":true,"permissions":"36953089","features":["COMMUNITY","NEWS"]},{"id":"300000000000000002","name":"Guild 300000000000000002","icon":null,"owner":false,"permissions":"0","features":[]}]`
)

// Secrets of the fuzzed sign-in: none may appear in an error.
const (
	fuzzSecret   = "client-secret-7d1f0a"
	fuzzCode     = "authcode-91c3e5"
	fuzzVerifier = "verifier-0b8e44aa71c2d9f6e3b5a8c7d4e1f0a2b3c4d5e6f7"
)

// tokenContentTypes are the answer types oauth2 reads a token from.
var tokenContentTypes = []string{"application/json", "application/x-www-form-urlencoded", "text/plain", ""}

// statuses maps a fuzzed byte to a status Discord may answer with.
var statuses = []int{200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503}

// fakeDiscord answers every request from the fuzzed documents, without a network.
type fakeDiscord struct {
	tokenStatus int
	tokenType   string
	tokenBody   []byte
	meStatus    int
	meBody      []byte
	guildBody   []byte
	guildCalls  int
	authHeaders []string
}

// RoundTrip implements http.RoundTripper.
func (f *fakeDiscord) RoundTrip(r *http.Request) (*http.Response, error) {
	respond := func(status int, ctype string, body []byte) (*http.Response, error) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		h := http.Header{}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h,
			Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
	}
	switch r.URL.Path {
	case "/token":
		return respond(f.tokenStatus, f.tokenType, f.tokenBody)
	case "/api/users/@me":
		f.authHeaders = append(f.authHeaders, r.Header.Get("Authorization"))
		return respond(f.meStatus, "application/json", f.meBody)
	case "/api/users/@me/guilds":
		f.authHeaders = append(f.authHeaders, r.Header.Get("Authorization"))
		f.guildCalls++
		return respond(http.StatusOK, "application/json", f.guildBody)
	}
	return respond(http.StatusNotFound, "text/plain", []byte("404 page not found"))
}

// sentAccessToken reads the access token out of a token answer the way oauth2 does.
func sentAccessToken(ctype string, body []byte) string {
	if ctype == "application/x-www-form-urlencoded" || ctype == "text/plain" {
		v, _ := url.ParseQuery(string(body))
		return v.Get("access_token")
	}
	var j struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &j)
	return j.AccessToken
}

func FuzzIdentify(f *testing.F) {
	f.Add(byte(0), byte(0), []byte(seedToken), byte(0), []byte(seedUser), []byte(seedGuilds), true)
	f.Add(byte(0), byte(0), []byte(seedToken), byte(0), []byte(seedUser), []byte(`[]`), false)
	f.Add(byte(4), byte(0), []byte(`{"error":"invalid_grant","error_description":"Invalid \"code\" in request."}`), byte(0), []byte(seedUser), []byte(`[]`), false)
	f.Add(byte(0), byte(1), []byte(`access_token=abc.def&token_type=bearer`), byte(0), []byte(`{"id":"1"}`), []byte(`[{"id":"2"},{"id":"2"}]`), true)
	f.Add(byte(0), byte(0), []byte(`{"access_token":"a b","token_type":"mac"}`), byte(0), []byte(`{"id":""}`), []byte(`[{"id":" "}]`), true)
	f.Add(byte(0), byte(0), []byte(`{"token_type":"Bearer"}`), byte(6), []byte(`{"id":12}`), []byte(`{}`), true)
	f.Add(byte(9), byte(0), []byte(`<html>bad gateway</html>`), byte(8), []byte(``), []byte(`null`), true)
	f.Fuzz(func(t *testing.T, tokenStatus, tokenType byte, tokenBody []byte, meStatus byte, meBody, guildBody []byte, guilds bool) {
		fake := &fakeDiscord{
			tokenStatus: statuses[int(tokenStatus)%len(statuses)], tokenType: tokenContentTypes[int(tokenType)%len(tokenContentTypes)],
			tokenBody: tokenBody, meStatus: statuses[int(meStatus)%len(statuses)], meBody: meBody, guildBody: guildBody,
		}
		p, err := New(Config{
			ClientID: "1234", ClientSecret: fuzzSecret, RedirectURL: "https://join.example.com/discord/callback",
			TokenURL: "https://discord.test/token", APIURL: "https://discord.test/api",
			HTTPClient: &http.Client{Transport: fake, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		})
		if err != nil {
			t.Fatal(err)
		}
		id, err := p.Identify(context.Background(), fuzzCode, fuzzVerifier, "", guilds)
		if fake.guildCalls > maxGuildPages || (!guilds && fake.guildCalls > 0) {
			t.Fatalf("%d guild pages read (guilds asked: %t)", fake.guildCalls, guilds)
		}
		for _, h := range fake.authHeaders {
			if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || checkToken(&oauth2.Token{AccessToken: tok}) != nil {
				t.Fatalf("API called with the Authorization header %q", h)
			}
		}
		if err != nil {
			checkIdentifyError(t, err, sentAccessToken(fake.tokenType, tokenBody))
			return
		}
		if !isSnowflake(id.User.ID) {
			t.Fatalf("account without a valid id accepted: %+v", id.User)
		}
		if want, err := parseUser(meBody); err != nil || want != id.User {
			t.Fatalf("account %+v from %q (direct: %+v, %v)", id.User, meBody, want, err)
		}
		if !guilds {
			if id.Guilds != nil {
				t.Fatalf("guilds %q read without being asked", id.Guilds)
			}
			return
		}
		seen := map[string]bool{}
		for _, g := range id.Guilds {
			if !isSnowflake(g) || seen[g] {
				t.Fatalf("bad or repeated guild id %q in %q", g, id.Guilds)
			}
			seen[g] = true
			if !id.InGuild(g) {
				t.Fatalf("InGuild(%q) false for a listed guild", g)
			}
		}
		if id.InGuild("") {
			t.Fatal(`InGuild("") is true`)
		}
	})
}

// checkIdentifyError asserts that err is one of the package's kinds and carries no secret.
func checkIdentifyError(t *testing.T, err error, accessToken string) {
	t.Helper()
	kinds := 0
	for _, k := range []error{ErrExchange, ErrUnavailable, ErrRateLimited, ErrBadResponse} {
		if errors.Is(err, k) {
			kinds++
		}
	}
	if kinds != 1 {
		t.Fatalf("error %q matches %d of the error kinds, want 1", err, kinds)
	}
	msg := err.Error()
	for _, secret := range []string{fuzzSecret, fuzzCode, fuzzVerifier} {
		if strings.Contains(msg, secret) {
			t.Fatalf("error %q carries a secret", msg)
		}
	}
	if len(accessToken) >= 16 && strings.Contains(msg, accessToken) {
		t.Fatalf("error %q carries the access token", msg)
	}
	if len(msg) > 400 {
		t.Fatalf("error of %d bytes: %q", len(msg), msg)
	}
}

func FuzzDiscordDocuments(f *testing.F) {
	f.Add([]byte(seedUser))
	f.Add([]byte(seedGuilds))
	f.Add([]byte(`{"id":"0001","username":"a\u0000b","global_name":"\u202e"}`))
	f.Add([]byte(`[{"id":"123456789012345678901"}]`))
	f.Add([]byte(`[{"id":null}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if u, err := parseUser(body); err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("parseUser error %v is not ErrBadResponse", err)
			}
		} else {
			if !isSnowflake(u.ID) {
				t.Fatalf("account id %q accepted", u.ID)
			}
			if u.Name() != u.GlobalName && (u.GlobalName != "" || u.Name() != u.Username) {
				t.Fatalf("Name() = %q for %+v", u.Name(), u)
			}
			// The account survives a round trip through its own JSON form.
			raw, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := parseUser(raw); err != nil || again != u {
				t.Fatalf("round trip of %+v: %+v, %v", u, again, err)
			}
		}
		if page, err := parseGuildPage(body); err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("parseGuildPage error %v is not ErrBadResponse", err)
			}
		} else {
			for _, g := range page {
				if !isSnowflake(g.ID) {
					t.Fatalf("guild id %q accepted", g.ID)
				}
			}
		}
		// Snowflakes compare as numbers: antisymmetric, and leading zeros do not count.
		a, b, _ := strings.Cut(string(body), ",")
		if isSnowflake(a) && isSnowflake(b) {
			if x, y := compareSnowflakes(a, b), compareSnowflakes(b, a); (x > 0) != (y < 0) || (x == 0) != (y == 0) {
				t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, x, b, a, y)
			}
			if compareSnowflakes("0"+a, a) != 0 {
				t.Fatalf("a leading zero changes %q", a)
			}
		}
	})
}
