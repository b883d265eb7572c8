package discord

import (
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// maxSnowflakeLen is the most digits of a Discord id (a 64-bit number).
const maxSnowflakeLen = 20

// isSnowflake reports whether s has the shape of a Discord id: 1 to 20 decimal digits.
func isSnowflake(s string) bool {
	if s == "" || len(s) > maxSnowflakeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseUser decodes GET /users/@me. The id keys the account, so it must be a snowflake.
func parseUser(body []byte) (User, error) {
	var u User
	if err := json.Unmarshal(body, &u); err != nil {
		return User{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if !isSnowflake(u.ID) {
		return User{}, fmt.Errorf("%w: the account has no valid id", ErrBadResponse)
	}
	return u, nil
}

// parseGuildPage decodes one page of GET /users/@me/guilds; every guild id must be a snowflake.
func parseGuildPage(body []byte) ([]Guild, error) {
	var page []Guild
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	for _, g := range page {
		if !isSnowflake(g.ID) {
			return nil, fmt.Errorf("%w: a guild has no valid id", ErrBadResponse)
		}
	}
	return page, nil
}

// checkToken refuses an access token that cannot be sent as a bearer token (RFC 6750's b64token:
// letters, digits and -._~+/ with trailing =), or one of another type: it goes into a header.
func checkToken(tok *oauth2.Token) error {
	if t := tok.TokenType; t != "" && !strings.EqualFold(t, "bearer") {
		return fmt.Errorf("%w: token type is not bearer", ErrBadResponse)
	}
	s := strings.TrimRight(tok.AccessToken, "=")
	if s == "" {
		return fmt.Errorf("%w: no access token", ErrBadResponse)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return fmt.Errorf("%w: malformed access token", ErrBadResponse)
		}
	}
	return nil
}

// compareSnowflakes orders two snowflakes numerically.
func compareSnowflakes(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
