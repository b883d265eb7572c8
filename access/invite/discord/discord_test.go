package discord_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discord"
	"github.com/plex-manager/caddy-plex-manager/access/invite/discordtest"
)

const redirect = "https://join.example.com/discord/callback"

// newPair returns a fake Discord and a provider pointed at it.
func newPair(t *testing.T, opts discordtest.Options) (*discordtest.Server, *discord.Provider) {
	t.Helper()
	fake := discordtest.NewServer(t, opts)
	p, err := discord.New(discord.Config{
		ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), RedirectURL: redirect,
		AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(), APIURL: fake.APIURL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return fake, p
}

// authorize follows the authorization URL like a browser and returns the callback's query.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	loc := discordtest.Authorize(t, authURL)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Fatalf("redirected to %q, want %q", got, redirect)
	}
	return loc.Query()
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]discord.Config{
		"no id":           {ClientSecret: "s", RedirectURL: redirect},
		"no secret":       {ClientID: "1", RedirectURL: redirect},
		"relative":        {ClientID: "1", ClientSecret: "s", RedirectURL: "/discord/callback"},
		"bad token url":   {ClientID: "1", ClientSecret: "s", RedirectURL: redirect, TokenURL: "ftp://x"},
		"bad api url":     {ClientID: "1", ClientSecret: "s", RedirectURL: redirect, APIURL: "::"},
		"bad auth scheme": {ClientID: "1", ClientSecret: "s", RedirectURL: redirect, AuthURL: "javascript:alert(1)"},
	} {
		if _, err := discord.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestAuthCodeURLCarriesStatePKCEAndScopes(t *testing.T) {
	_, p := newPair(t, discordtest.Options{})
	v := discord.NewVerifier()
	for _, guilds := range []bool{false, true} {
		u, err := url.Parse(p.AuthCodeURL("st4te", v, "", guilds))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		wantScope := "identify"
		if guilds {
			wantScope = "identify guilds"
		}
		if q.Get("state") != "st4te" || q.Get("scope") != wantScope || q.Get("redirect_uri") != redirect ||
			q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("response_type") != "code" {
			t.Errorf("guilds=%t: authorization query %v", guilds, q)
		}
		if strings.Contains(u.String(), v) {
			t.Error("the PKCE verifier leaked into the authorization URL")
		}
	}
}

func TestIdentify(t *testing.T) {
	fake, p := newPair(t, discordtest.Options{RequirePKCE: true})
	u := fake.AddUser(discordtest.User{ID: "200000000000000001", Username: "ann", GlobalName: "Ann", Guilds: []string{"300000000000000001", "300000000000000002"}})
	ctx := context.Background()

	t.Run("account only", func(t *testing.T) {
		v := discord.NewVerifier()
		q := authorize(t, p.AuthCodeURL("s1", v, "", false))
		if q.Get("state") != "s1" {
			t.Fatalf("state %q", q.Get("state"))
		}
		id, err := p.Identify(ctx, q.Get("code"), v, "", false)
		if err != nil {
			t.Fatal(err)
		}
		if id.User.ID != u.ID || id.User.Username != "ann" || id.User.Name() != "Ann" || id.Guilds != nil {
			t.Fatalf("identity %+v", id)
		}
		if fake.CallCount(discordtest.RouteGuilds) != 0 {
			t.Error("guilds read although not asked")
		}
	})
	t.Run("with guilds", func(t *testing.T) {
		v := discord.NewVerifier()
		q := authorize(t, p.AuthCodeURL("s2", v, "", true))
		id, err := p.Identify(ctx, q.Get("code"), v, "", true)
		if err != nil {
			t.Fatal(err)
		}
		if !id.InGuild("300000000000000002") || id.InGuild("300000000000000009") {
			t.Fatalf("guilds %v", id.Guilds)
		}
	})
	t.Run("code is single use", func(t *testing.T) {
		v := discord.NewVerifier()
		q := authorize(t, p.AuthCodeURL("s3", v, "", false))
		if _, err := p.Identify(ctx, q.Get("code"), v, "", false); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Identify(ctx, q.Get("code"), v, "", false); !errors.Is(err, discord.ErrExchange) {
			t.Fatalf("second exchange: %v, want ErrExchange", err)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		q := authorize(t, p.AuthCodeURL("s4", discord.NewVerifier(), "", false))
		if _, err := p.Identify(ctx, q.Get("code"), discord.NewVerifier(), "", false); !errors.Is(err, discord.ErrExchange) {
			t.Fatalf("got %v, want ErrExchange", err)
		}
	})
	t.Run("no code", func(t *testing.T) {
		if _, err := p.Identify(ctx, "", "v", "", false); !errors.Is(err, discord.ErrExchange) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("denied", func(t *testing.T) {
		fake.Deny()
		defer fake.SignIn(u.ID)
		q := authorize(t, p.AuthCodeURL("s5", discord.NewVerifier(), "", false))
		if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "s5" {
			t.Fatalf("denied callback %v", q)
		}
	})
}

func TestIdentifyGuildPaging(t *testing.T) {
	fake, p := newPair(t, discordtest.Options{})
	var guilds []string
	for i := range 230 {
		guilds = append(guilds, fmt.Sprintf("4000000000000%05d", i))
	}
	fake.AddUser(discordtest.User{ID: "200000000000000002", Guilds: guilds})
	v := discord.NewVerifier()
	q := authorize(t, p.AuthCodeURL("s", v, "", true))
	id, err := p.Identify(context.Background(), q.Get("code"), v, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Guilds) != 230 || !id.InGuild(guilds[229]) {
		t.Fatalf("got %d guilds, want 230", len(id.Guilds))
	}
	if n := fake.CallCount(discordtest.RouteGuilds); n != 2 {
		t.Errorf("guild pages requested: %d, want 2", n)
	}
}

func TestIdentifyFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault discordtest.Fault
		want  error
	}{
		{"token server error", discordtest.Fault{Route: discordtest.RouteToken, Status: 503}, discord.ErrUnavailable},
		{"token rate limited", discordtest.Fault{Route: discordtest.RouteToken, Status: 429}, discord.ErrRateLimited},
		{"me unauthorized", discordtest.Fault{Route: discordtest.RouteMe, Status: 401}, discord.ErrBadResponse},
		{"me server error", discordtest.Fault{Route: discordtest.RouteMe, Status: 502}, discord.ErrUnavailable},
		{"guilds rate limited", discordtest.Fault{Route: discordtest.RouteGuilds, Status: 429}, discord.ErrRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, p := newPair(t, discordtest.Options{})
			fake.AddUser(discordtest.User{ID: "200000000000000003"})
			fake.Inject(tc.fault)
			v := discord.NewVerifier()
			q := authorize(t, p.AuthCodeURL("s", v, "", true))
			_, err := p.Identify(context.Background(), q.Get("code"), v, "", true)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), q.Get("code")) || strings.Contains(err.Error(), fake.ClientSecret()) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestIdentifyWrongSecret(t *testing.T) {
	fake := discordtest.NewServer(t, discordtest.Options{})
	fake.AddUser(discordtest.User{})
	p, err := discord.New(discord.Config{ClientID: fake.ClientID(), ClientSecret: "wrong", RedirectURL: redirect,
		AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(), APIURL: fake.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	v := discord.NewVerifier()
	q := authorize(t, p.AuthCodeURL("s", v, "", false))
	if _, err := p.Identify(context.Background(), q.Get("code"), v, "", false); !errors.Is(err, discord.ErrExchange) {
		t.Fatalf("got %v, want ErrExchange", err)
	}
}

func TestIdentifyCancelled(t *testing.T) {
	fake := discordtest.NewServer(t, discordtest.Options{})
	fake.AddUser(discordtest.User{})
	p, err := discord.New(discord.Config{ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), RedirectURL: redirect,
		AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(), APIURL: fake.APIURL(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v := discord.NewVerifier()
	q := authorize(t, p.AuthCodeURL("s", v, "", false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Identify(ctx, q.Get("code"), v, "", false); !errors.Is(err, discord.ErrUnavailable) {
		t.Fatalf("cancelled context: got %v, want ErrUnavailable", err)
	}
}

func TestPerCallRedirectURL(t *testing.T) {
	fake := discordtest.NewServer(t, discordtest.Options{})
	fake.AddUser(discordtest.User{ID: "200000000000000007"})
	p, err := discord.New(discord.Config{ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(),
		AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(), APIURL: fake.APIURL()})
	if err != nil {
		t.Fatalf("New without a default redirect URL: %v", err)
	}
	v := discord.NewVerifier()
	u, _ := url.Parse(p.AuthCodeURL("s", v, redirect, false))
	if u.Query().Get("redirect_uri") != redirect {
		t.Fatalf("redirect_uri %q", u.Query().Get("redirect_uri"))
	}
	q := authorize(t, u.String())
	// The token request must name the same redirect URI as the authorization.
	if _, err := p.Identify(context.Background(), q.Get("code"), v, "https://other.example.com/cb", false); !errors.Is(err, discord.ErrExchange) {
		t.Fatalf("other redirect URI: %v", err)
	}
	q = authorize(t, p.AuthCodeURL("s2", v, redirect, false))
	if id, err := p.Identify(context.Background(), q.Get("code"), v, redirect, false); err != nil || id.User.ID != "200000000000000007" {
		t.Fatalf("same redirect URI: %+v %v", id, err)
	}
	if _, err := p.Identify(context.Background(), "c", v, "ftp://x", false); !errors.Is(err, discord.ErrExchange) {
		t.Fatalf("bad redirect URI: %v", err)
	}
}
