package discordtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bot identity of the fake application.
const (
	// DefaultBotToken is the bot token the fake accepts when Options.BotToken is empty.
	DefaultBotToken = "MTk4NjIyNDgzNDcxOTI1MjQ4.Gfake0.bot-token-of-the-discordtest-fake"
	// BotID and BotUsername are the bot account GET /users/@me returns to the bot token.
	BotID       = "198622483471925248"
	BotUsername = "Plex Manager"
)

// Limits Discord enforces on messages.
const (
	// MaxMessageLength is the most characters (Unicode code points) a message's content may have.
	MaxMessageLength = 2000
	// maxNonceLength is the longest string nonce Discord accepts.
	maxNonceLength = 25
	// nonceWindow is how long an enforced nonce deduplicates ("the past few minutes").
	nonceWindow = 5 * time.Minute
	// maxBotBody caps a bot request body (Discord answers 413 beyond its own limit).
	maxBotBody = 1 << 20
)

// DefaultRetryAfter is the wait an injected 429 asks for when Fault.RetryAfter is zero.
const DefaultRetryAfter = time.Second

// Discord's JSON error codes the bot routes answer with.
const (
	// CodeUnknownChannel: the channel id names no channel the bot can see (404).
	CodeUnknownChannel = 10003
	// CodeUnknownUser: the recipient id names no account (404).
	CodeUnknownUser = 10013
	// CodeRequestTooLarge: the body is larger than Discord accepts (413).
	CodeRequestTooLarge = 40005
	// CodeEmptyMessage: a message without content or embeds (400).
	CodeEmptyMessage = 50006
	// CodeCannotMessageUser: the user does not accept DMs from the bot (403).
	CodeCannotMessageUser = 50007
	// CodeInvalidFormBody: a field is missing, of the wrong type or too long (400).
	CodeInvalidFormBody = 50035
	// CodeInvalidJSON: the body is not valid JSON (400).
	CodeInvalidJSON = 50109
)

// Messages of the errors Discord answers with.
const (
	messageUnauthorized     = "401: Unauthorized"
	messageCannotSendToUser = "Cannot send messages to this user"
)

// DM is a direct message the bot sent to a user.
type DM struct {
	// ID is the message's id, ChannelID the DM channel's.
	ID        string
	ChannelID string
	Content   string
	At        time.Time
}

// botState is what the bot routes remember; Server.mu guards it.
type botState struct {
	// channelOf maps a user id to the DM channel opened with the user, recipient the reverse.
	channelOf map[string]string
	recipient map[string]string
	// dms are the messages received, per user id.
	dms map[string][]DM
	// nonces maps channel id + "\x00" + nonce to the message an enforced nonce created.
	nonces map[string]DM
}

func newBotState() botState {
	return botState{channelOf: map[string]string{}, recipient: map[string]string{}, dms: map[string][]DM{}, nonces: map[string]DM{}}
}

// BotToken returns the token bot requests must carry.
func (s *Server) BotToken() string { return s.opts.BotToken }

// DMs returns the direct messages the bot sent to the user, oldest first.
func (s *Server) DMs(userID string) []DM {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bot.dms[userID])
}

// DMChannel returns the id of the DM channel opened with the user, if any.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.bot.channelOf[userID]
	return id, ok
}

// routeOf names the request's route; message posts to any channel share one name, and the
// channel id is returned beside it.
func routeOf(r *http.Request) (route, channelID string) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v10/channels/"); ok {
		if id, ok := strings.CutSuffix(rest, "/messages"); ok && id != "" && !strings.Contains(id, "/") {
			return r.Method + " /api/v10/channels/{channel.id}/messages", id
		}
	}
	return r.Method + " " + r.URL.Path, ""
}

// isBotAuth reports whether the request authenticates as a bot (rightly or not).
func isBotAuth(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "Bot ")
}

// botAuthorized checks "Authorization: Bot <token>" and answers 401 when it is wrong or missing.
func (s *Server) botAuthorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bot ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.BotToken)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": messageUnauthorized, "code": 0})
		return false
	}
	return true
}

// readJSON decodes the JSON body into v; on failure it answers as Discord does and returns false:
// 400 code 50035 for a body that is not JSON-typed or has a field of the wrong type, 400 code
// 50109 for malformed JSON, 413 code 40005 for an oversized body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusBadRequest, formError("_root", "CONTENT_TYPE_INVALID", "Expected \"Content-Type\" header to be one of {'application/json'}."))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBotBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"message": "Request entity too large", "code": CodeRequestTooLarge})
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			writeJSON(w, http.StatusBadRequest, formError(typeErr.Field, "BASE_TYPE_BAD_TYPE", "Must be a valid value."))
			return false
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "The request body contains invalid JSON.", "code": CodeInvalidJSON})
		return false
	}
	return true
}

// formError is Discord's "Invalid Form Body" answer naming one field.
func formError(field, code, message string) map[string]any {
	return map[string]any{
		"message": "Invalid Form Body", "code": CodeInvalidFormBody,
		"errors": map[string]any{field: map[string]any{"_errors": []map[string]string{{"code": code, "message": message}}}},
	}
}

// isSnowflake reports whether id is a decimal snowflake.
func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return err == nil && n > 0 && strconv.FormatUint(n, 10) == id
}

// snowflakeField reads a snowflake sent as a JSON string or number ("" when it is neither).
func snowflakeField(raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// botMe answers GET /users/@me for the bot token.
func (s *Server) botMe(w http.ResponseWriter, r *http.Request) {
	if !s.botAuthorized(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, botUser())
}

// botUser is the bot's user object.
func botUser() map[string]any {
	return map[string]any{"id": BotID, "username": BotUsername, "global_name": nil, "discriminator": "0", "avatar": nil, "bot": true}
}

// openDM answers POST /users/@me/channels: the same DM channel for a user every time.
func (s *Server) openDM(w http.ResponseWriter, r *http.Request) {
	if !s.botAuthorized(w, r) {
		return
	}
	var req struct {
		RecipientID json.RawMessage `json:"recipient_id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id := snowflakeField(req.RecipientID)
	if !isSnowflake(id) {
		writeJSON(w, http.StatusBadRequest, formError("recipient_id", "NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", id)))
		return
	}
	s.mu.Lock()
	u, ok := s.users[id]
	ch := s.bot.channelOf[id]
	if ok && ch == "" {
		ch = snowflake()
		s.bot.channelOf[id], s.bot.recipient[ch] = ch, id
	}
	var last any
	if n := len(s.bot.dms[id]); n > 0 {
		last = s.bot.dms[id][n-1].ID
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown User", "code": CodeUnknownUser})
		return
	}
	var global any
	if u.GlobalName != "" {
		global = u.GlobalName
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": ch, "type": 1, "last_message_id": last, "flags": 0,
		"recipients": []map[string]any{{"id": u.ID, "username": u.Username, "global_name": global, "discriminator": "0", "avatar": nil}},
	})
}

// createMessage answers POST /channels/{id}/messages for DM channels.
func (s *Server) createMessage(w http.ResponseWriter, r *http.Request, channelID string) {
	if !s.botAuthorized(w, r) {
		return
	}
	s.mu.Lock()
	userID, ok := s.bot.recipient[channelID]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": CodeUnknownChannel})
		return
	}
	var req struct {
		Content      string            `json:"content"`
		Nonce        json.RawMessage   `json:"nonce"`
		EnforceNonce bool              `json:"enforce_nonce"`
		Embeds       []json.RawMessage `json:"embeds"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	nonce, ok := parseNonce(req.Nonce)
	if !ok {
		writeJSON(w, http.StatusBadRequest, formError("nonce", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length."))
		return
	}
	if utf8.RuneCountInString(req.Content) > MaxMessageLength {
		writeJSON(w, http.StatusBadRequest, formError("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."))
		return
	}
	if strings.TrimSpace(req.Content) == "" && len(req.Embeds) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Cannot send an empty message", "code": CodeEmptyMessage})
		return
	}
	now := s.opts.Now().UTC()
	s.mu.Lock()
	u, known := s.users[userID]
	if !known || u.DMsClosed {
		s.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]any{"message": messageCannotSendToUser, "code": CodeCannotMessageUser})
		return
	}
	key := channelID + "\x00" + nonce
	if prev, seen := s.bot.nonces[key]; seen && req.EnforceNonce && nonce != "" && now.Sub(prev.At) < nonceWindow {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, messageObject(prev, nonce))
		return
	}
	dm := DM{ID: snowflake(), ChannelID: channelID, Content: req.Content, At: now}
	s.bot.dms[userID] = append(s.bot.dms[userID], dm)
	if req.EnforceNonce && nonce != "" {
		s.bot.nonces[key] = dm
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, messageObject(dm, nonce))
}

// parseNonce reads a message nonce: a string of at most 25 characters or an integer.
func parseNonce(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, utf8.RuneCountInString(str) <= maxNonceLength
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// messageObject is the message object Discord returns.
func messageObject(dm DM, nonce string) map[string]any {
	m := map[string]any{
		"id": dm.ID, "channel_id": dm.ChannelID, "type": 0, "content": dm.Content, "tts": false,
		"timestamp": dm.At.Format("2006-01-02T15:04:05.000000+00:00"), "author": botUser(),
		"mentions": []any{}, "embeds": []any{}, "attachments": []any{},
	}
	if nonce != "" {
		m["nonce"] = nonce
	}
	return m
}

// writeFault answers an injected fault; a 429 looks like Discord's rate limit answer.
func (s *Server) writeFault(w http.ResponseWriter, f Fault) {
	if f.Status != http.StatusTooManyRequests {
		msg := f.Message
		if msg == "" {
			msg = "injected fault"
		}
		writeJSON(w, f.Status, map[string]any{"message": msg, "code": f.Code})
		return
	}
	wait := f.RetryAfter
	if wait <= 0 {
		wait = DefaultRetryAfter
	}
	secs := math.Round(wait.Seconds()*1000) / 1000
	scope := "user"
	if f.Global {
		scope = "global"
		w.Header().Set("X-RateLimit-Global", "true")
	}
	bucket := sha256.Sum256([]byte(f.Route))
	h := w.Header()
	h.Set("Retry-After", strconv.FormatFloat(math.Ceil(wait.Seconds()), 'f', 0, 64))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(s.opts.Now().Add(wait).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", hex.EncodeToString(bucket[:8]))
	h.Set("X-RateLimit-Scope", scope)
	msg := f.Message
	if msg == "" {
		msg = "You are being rate limited."
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": msg, "retry_after": secs, "global": f.Global, "code": f.Code})
}
