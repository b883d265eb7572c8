package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// identifyWith runs Identify against fixed answers.
func identifyWith(t *testing.T, fake *fakeDiscord, guilds bool) (Identity, error) {
	t.Helper()
	p, err := New(Config{
		ClientID: "1234", ClientSecret: fuzzSecret, RedirectURL: "https://join.example.com/discord/callback",
		TokenURL: "https://discord.test/token", APIURL: "https://discord.test/api",
		HTTPClient: &http.Client{Transport: fake},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.Identify(context.Background(), fuzzCode, fuzzVerifier, "", guilds)
}

func TestIdentifyOddAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tokenType  string
		tokenBody  string
		meBody     string
		guildBody  string
		want       error
		apiCalls   int
		guildCount int
	}{
		{name: "token not JSON", tokenBody: `<html>`, want: ErrBadResponse},
		{name: "no access token", tokenBody: `{"token_type":"Bearer"}`, want: ErrBadResponse},
		{name: "form-encoded token", tokenType: "application/x-www-form-urlencoded", tokenBody: `access_token=abc.DEF-12&token_type=bearer`, apiCalls: 2, guildCount: 2},
		{name: "token of another type", tokenBody: `{"access_token":"abc","token_type":"mac"}`, want: ErrBadResponse},
		{name: "token with a space", tokenBody: `{"access_token":"a b","token_type":"Bearer"}`, want: ErrBadResponse},
		{name: "token with a line break", tokenBody: `{"access_token":"a\r\nX-Evil: 1"}`, want: ErrBadResponse},
		{name: "account without id", meBody: `{"username":"x"}`, want: ErrBadResponse, apiCalls: 1},
		{name: "account id not a snowflake", meBody: `{"id":"../admin"}`, want: ErrBadResponse, apiCalls: 1},
		{name: "account id too long", meBody: `{"id":"123456789012345678901"}`, want: ErrBadResponse, apiCalls: 1},
		{name: "account id a number", meBody: `{"id":80351110224678912}`, want: ErrBadResponse, apiCalls: 1},
		{name: "guild id not a snowflake", guildBody: `[{"id":"1"},{"id":""}]`, want: ErrBadResponse, apiCalls: 2},
		{name: "guild listed twice", guildBody: `[{"id":"7"},{"id":"7"},{"id":"8"}]`, apiCalls: 2, guildCount: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeDiscord{tokenStatus: 200, tokenType: "application/json", tokenBody: []byte(seedToken),
				meStatus: 200, meBody: []byte(seedUser), guildBody: []byte(seedGuilds)}
			if tc.tokenType != "" {
				fake.tokenType = tc.tokenType
			}
			if tc.tokenBody != "" {
				fake.tokenBody = []byte(tc.tokenBody)
			}
			if tc.meBody != "" {
				fake.meBody = []byte(tc.meBody)
			}
			if tc.guildBody != "" {
				fake.guildBody = []byte(tc.guildBody)
			}
			id, err := identifyWith(t, fake, true)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if len(fake.authHeaders) != tc.apiCalls {
				t.Errorf("%d API calls, want %d", len(fake.authHeaders), tc.apiCalls)
			}
			if err == nil && len(id.Guilds) != tc.guildCount {
				t.Errorf("guilds %q, want %d", id.Guilds, tc.guildCount)
			}
		})
	}
}

// TestGuildPagingStopsWhenTheCursorStalls: a full page answered again for the next cursor
// (Discord ignoring "after") is read twice at most, and its guilds are listed once.
func TestGuildPagingStopsWhenTheCursorStalls(t *testing.T) {
	page := make([]Guild, guildPageSize)
	for i := range page {
		page[i] = Guild{ID: fmt.Sprintf("3000000000000%05d", i)}
	}
	body, _ := json.Marshal(page)
	fake := &fakeDiscord{tokenStatus: 200, tokenType: "application/json", tokenBody: []byte(seedToken),
		meStatus: 200, meBody: []byte(seedUser), guildBody: body}
	id, err := identifyWith(t, fake, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Guilds) != guildPageSize || fake.guildCalls != 2 {
		t.Fatalf("%d guilds from %d calls, want %d from 2", len(id.Guilds), fake.guildCalls, guildPageSize)
	}
}

func TestCompareSnowflakes(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		sign int
	}{
		{"9", "10", -1}, {"10", "9", 1}, {"007", "7", 0}, {"80351110224678912", "80351110224678913", -1}, {"2", "2", 0},
	} {
		got := compareSnowflakes(tt.a, tt.b)
		if (got > 0) != (tt.sign > 0) || (got < 0) != (tt.sign < 0) {
			t.Errorf("compareSnowflakes(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.sign)
		}
	}
}
