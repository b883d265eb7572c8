package discordbot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/plex-manager/caddy-plex-manager/notify/discordbot"
)

// secretToken is a token whose appearance anywhere is a leak.
const secretToken = "MTk4NjIyNDgzNDcxOTI1MjQ4.Gsecret.do-not-print-me"

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     discordbot.Config
		wantErr string
	}{
		{"token only", discordbot.Config{Token: secretToken}, ""},
		{"Bot prefix dropped", discordbot.Config{Token: "Bot " + secretToken}, ""},
		{"surrounding spaces", discordbot.Config{Token: "  " + secretToken + "\n"}, ""},
		{"test API URL", discordbot.Config{Token: secretToken, APIURL: "http://127.0.0.1:9/api/v10/"}, ""},
		{"version", discordbot.Config{Token: secretToken, Version: "2.3.1"}, ""},
		{"no token", discordbot.Config{}, "token: is required"},
		{"blank token", discordbot.Config{Token: " \t"}, "token: is required"},
		{"prefix only", discordbot.Config{Token: "Bot "}, "token: is required"},
		{"token with a space", discordbot.Config{Token: secretToken + " x"}, "without spaces"},
		{"token with a newline", discordbot.Config{Token: secretToken + "\r\nX-Evil: 1"}, "printable ASCII"},
		{"token not ASCII", discordbot.Config{Token: secretToken + "é"}, "printable ASCII"},
		{"token too long", discordbot.Config{Token: strings.Repeat(secretToken, 10)}, "longer than"},
		{"relative API URL", discordbot.Config{Token: secretToken, APIURL: "/api/v10"}, "absolute http(s) URL"},
		{"API URL without host", discordbot.Config{Token: secretToken, APIURL: "http://:80/api"}, "absolute http(s) URL"},
		{"API URL of another scheme", discordbot.Config{Token: secretToken, APIURL: "ftp://discord.com/api"}, "absolute http(s) URL"},
		{"API URL with a query", discordbot.Config{Token: secretToken, APIURL: "https://discord.com/api?x=1"}, "query"},
		{"API URL with user info", discordbot.Config{Token: secretToken, APIURL: "https://u:p@discord.com/api"}, "user info"},
		{"version with a parenthesis", discordbot.Config{Token: secretToken, Version: "1)"}, "parentheses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := discordbot.New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: error %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "do-not-print-me") {
				t.Fatalf("the error shows the token: %v", err)
			}
		})
	}
}

func TestNothingPrintsTheToken(t *testing.T) {
	cfg := discordbot.Config{Token: secretToken, HTTPClient: &http.Client{}}
	c, err := discordbot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg, c, []any{c}, struct{ C *discordbot.Client }{c}} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "do-not-print-me") {
				t.Errorf("%s of %T shows the token: %s", verb, v, out)
			}
		}
	}
	if s := cfg.String(); !strings.Contains(s, "[REDACTED]") {
		t.Errorf("Config.String does not say a token is set: %s", s)
	}
	if s := (discordbot.Config{}).String(); strings.Contains(s, "REDACTED") {
		t.Errorf("Config.String claims a token that is not set: %s", s)
	}
}
