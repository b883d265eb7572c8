package discordbot

import (
	"context"
	"fmt"
	"net/http"
)

// BotUser is the bot account a token belongs to.
type BotUser struct {
	// ID is the bot's Discord user id, Username its name.
	ID       string `json:"id"`
	Username string `json:"username"`
}

// Check validates the token by reading the bot's own account (GET /users/@me), for start-up and
// the settings page's test button. Errors match ErrInvalidToken, ErrRateLimited, ErrUnavailable
// or ErrBadAnswer with errors.Is. A success clears an earlier 401, so a Client whose token was
// refused by mistake sends again.
func (c *Client) Check(ctx context.Context) (BotUser, error) {
	var me struct {
		BotUser
		Bot bool `json:"bot"`
	}
	if err := c.do(ctx, opCheck, http.MethodGet, "/users/@me", nil, &me); err != nil {
		return BotUser{}, err
	}
	if !isSnowflake(me.ID) {
		return BotUser{}, fmt.Errorf("%s: %w: no user id", opCheck, ErrBadAnswer)
	}
	if !me.Bot {
		return BotUser{}, fmt.Errorf("%s: the token belongs to %q, which is not a bot account", opCheck, me.Username)
	}
	c.tokenRejected.Store(false)
	return me.BotUser, nil
}
