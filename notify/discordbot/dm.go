package discordbot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MaxContentLength is the most characters (Unicode code points) Discord accepts in a message;
// SendDM cuts longer texts.
const MaxContentLength = 2000

// SendDM sends text to the Discord user as a direct message from the bot, cut to
// MaxContentLength characters on a character boundary. Mentions in the text ping nobody.
//
// Errors match ErrCannotDM, ErrUnknownUser, ErrInvalidToken, ErrRateLimited, ErrUnavailable,
// ErrInvalidUserID or ErrEmptyMessage with errors.Is, or the context's error.
func (c *Client) SendDM(ctx context.Context, discordUserID, text string) error {
	if !isSnowflake(discordUserID) {
		return fmt.Errorf("%s: %w", opSend, ErrInvalidUserID)
	}
	content := fitContent(text)
	if strings.TrimSpace(content) == "" {
		return fmt.Errorf("%s: %w", opSend, ErrEmptyMessage)
	}
	if c.tokenRejected.Load() {
		return fmt.Errorf("%s: %w (Discord refused it before; nothing sent)", opSend, ErrInvalidToken)
	}
	msg := message{Content: content, Nonce: newNonce(), EnforceNonce: true, AllowedMentions: allowedMentions{Parse: []string{}}}
	for reopened := false; ; reopened = true {
		channelID, cached, err := c.dmChannel(ctx, discordUserID)
		if err != nil {
			return err
		}
		err = c.do(ctx, opSend, http.MethodPost, "/channels/"+channelID+"/messages", msg, nil)
		var apiErr *APIError
		if cached && !reopened && errors.As(err, &apiErr) && apiErr.Code == CodeUnknownChannel {
			// The cached channel is gone: open it again, once.
			c.channels.remove(discordUserID, channelID)
			continue
		}
		return err
	}
}

// message is the body of POST /channels/{id}/messages.
type message struct {
	Content string `json:"content"`
	// Nonce with EnforceNonce makes Discord return the first message instead of posting a
	// second one when a retry repeats a request whose answer was lost.
	Nonce           string          `json:"nonce"`
	EnforceNonce    bool            `json:"enforce_nonce"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

// allowedMentions with an empty Parse list turns every mention in the content off.
type allowedMentions struct {
	Parse []string `json:"parse"`
}

// dmChannel returns the user's DM channel id, from the cache or by opening it; cached says which.
func (c *Client) dmChannel(ctx context.Context, userID string) (id string, cached bool, err error) {
	if id, ok := c.channels.get(userID); ok {
		return id, true, nil
	}
	var ch struct {
		ID   string `json:"id"`
		Type int    `json:"type"`
	}
	if err := c.do(ctx, opOpenDM, http.MethodPost, "/users/@me/channels", map[string]string{"recipient_id": userID}, &ch); err != nil {
		return "", false, err
	}
	if !isSnowflake(ch.ID) {
		return "", false, fmt.Errorf("%s: %w: no channel id", opOpenDM, ErrBadAnswer)
	}
	c.channels.put(userID, ch.ID)
	return ch.ID, false, nil
}

// fitContent makes text valid UTF-8 and cuts it to MaxContentLength characters, ending a cut
// text with "…".
func fitContent(text string) string {
	return cut(strings.ToValidUTF8(text, "\uFFFD"), MaxContentLength)
}

// isSnowflake reports whether id is a Discord id: a decimal uint64 without sign or leading zero.
func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 || id[0] == '0' {
		return false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return err == nil && n > 0
}

// newNonce returns 20 random base-36 characters (Discord accepts up to 25).
func newNonce() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b)
}
