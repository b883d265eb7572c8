package invite

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access/invite/discord"
	"github.com/plex-manager/caddy-plex-manager/plex"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// The public sign-in flow of an invite, without HTTP: Begin starts the Plex PIN sign-in, Resume
// checks it when the browser comes back (or while a waiting page refreshes), the Discord steps run
// when the invite asks for Discord, and the redemption runs once the identities are known. Each
// flow is a record in the store's ephemeral state (kind FlowStateKind) under a random key; the
// key is the OAuth state of the Plex forward URL and is bound to the browser by a cookie (the
// handler's job). Every stage change is an atomic compare-and-set on the record, so a refreshed
// or replayed callback never redeems twice. The record holds the invitee's Plex token between
// sign-in and redemption (server side, with a TTL) and drops it as soon as the redemption ends.

// FlowStateKind is the storage state kind of invite sign-in flows.
const FlowStateKind = "invite_flow"

// DefaultFlowTTL bounds a sign-in from the join button to the end of the redemption.
const DefaultFlowTTL = 30 * time.Minute

// doneTTL is how long a finished flow's result stays readable (a refreshed result page).
const doneTTL = 15 * time.Minute

// Flow stages.
const (
	stagePlex      = "plex"
	stageDiscord   = "discord"
	stageRedeeming = "redeeming"
	stageDone      = "done"
	stageFailed    = "failed"
)

// StepKind says what the handler does next.
type StepKind int

// Steps of the flow.
const (
	// StepRedirect: send the browser to Step.URL (the Plex auth app or Discord).
	StepRedirect StepKind = iota + 1
	// StepWait: the Plex sign-in is not finished yet; show the waiting page (it refreshes itself).
	StepWait
	// StepDiscord: ask the person to sign in with Discord (or to skip it when optional).
	StepDiscord
	// StepDone: the redemption succeeded; show the onboarding page.
	StepDone
	// StepFailed: the redemption failed; show Step.Reason.
	StepFailed
)

// Step is the flow's answer to the handler.
type Step struct {
	// Kind says what to do.
	Kind StepKind
	// Key is the flow key (set as the browser cookie after Begin).
	Key string
	// URL is the redirect target of StepRedirect.
	URL string
	// Invite is the invite being redeemed (zero when it was deleted meanwhile).
	Invite storage.Invite
	// Result is set for StepDone.
	Result *Result
	// Reason is the plain-language failure (StepFailed) or a notice (StepDiscord after a cancelled
	// or refused Discord sign-in).
	Reason string
	// DiscordRequired is set for StepDiscord when skipping is not allowed.
	DiscordRequired bool
	// Deadline is when the sign-in gives up (StepWait).
	Deadline time.Time
}

// ErrFlowNotFound means the sign-in is unknown, expired, already finished elsewhere, or not bound
// to this browser.
var ErrFlowNotFound = errors.New("this sign-in has expired or was not started in this browser")

// DiscordSignIn is the Discord side of the flow; *discord.Provider implements it.
type DiscordSignIn interface {
	// AuthCodeURL returns the authorization URL for state and the PKCE verifier, returning to
	// redirectURL.
	AuthCodeURL(state, verifier, redirectURL string, guilds bool) string
	// Identify exchanges the code (issued for redirectURL) and reads the account (and its guilds).
	Identify(ctx context.Context, code, verifier, redirectURL string, guilds bool) (discord.Identity, error)
}

// FlowOptions configure NewFlow. Service and Plex are required.
type FlowOptions struct {
	// Service redeems the invites.
	Service *Service
	// Plex creates and checks sign-in PINs and reads the account (the goth provider runs on it).
	Plex *plex.Client
	// Discord is the Discord sign-in; nil when Discord is not configured.
	Discord DiscordSignIn
	// Now is the clock (default: the Service's).
	Now func() time.Time
	// TTL bounds a sign-in (default DefaultFlowTTL).
	TTL time.Duration
	// Logger receives warnings (default: the Service's).
	Logger *zap.Logger
}

// Flow runs invite sign-ins. It is safe for concurrent use.
type Flow struct {
	svc     *Service
	plex    *plex.Client
	discord DiscordSignIn
	now     func() time.Time
	ttl     time.Duration
	log     *zap.Logger
}

// NewFlow checks opts and returns a Flow.
func NewFlow(opts FlowOptions) (*Flow, error) {
	if opts.Service == nil || opts.Plex == nil {
		return nil, errors.New("invite: FlowOptions.Service and Plex are required")
	}
	f := &Flow{svc: opts.Service, plex: opts.Plex, discord: opts.Discord, now: opts.Now, ttl: opts.TTL, log: opts.Logger}
	if f.now == nil {
		f.now = opts.Service.now
	}
	if f.ttl <= 0 {
		f.ttl = DefaultFlowTTL
	}
	if f.log == nil {
		f.log = opts.Service.log
	}
	return f, nil
}

// flowRecord is the stored state of one sign-in. Session holds the invitee's Plex token after the
// PIN is claimed: it never leaves the server and is cleared when the redemption ends.
type flowRecord struct {
	Stage    string            `json:"stage"`
	InviteID string            `json:"invite_id"`
	IP       string            `json:"ip,omitempty"`
	Session  *plex.AuthSession `json:"session,omitempty"`
	Account  *Account          `json:"account,omitempty"`
	// DiscordState and Verifier are the current Discord authorization's state and PKCE verifier.
	DiscordState string `json:"discord_state,omitempty"`
	Verifier     string `json:"verifier,omitempty"`
	// DiscordRedirect is the redirect URI of the current Discord authorization.
	DiscordRedirect string           `json:"discord_redirect,omitempty"`
	Discord         *DiscordIdentity `json:"discord,omitempty"`
	// Notice is shown on the Discord page after a cancelled or refused Discord sign-in.
	Notice   string    `json:"notice,omitempty"`
	Result   *Result   `json:"result,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Deadline time.Time `json:"deadline"`
}

// newKey returns a random flow key or OAuth state (128 bits, hex).
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validKey reports whether k looks like a key newKey made.
func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	_, err := hex.DecodeString(k)
	return err == nil
}

// Begin starts the Plex sign-in for inv: it creates a PIN whose forward URL is forwardURL plus the
// flow key as "state", stores the flow, and returns StepRedirect to the auth app with the key for
// the browser cookie. The invite must be usable (Lookup) — the use itself is reserved only at the
// redemption.
func (f *Flow) Begin(ctx context.Context, inv storage.Invite, forwardURL, ip string) (Step, error) {
	if storage.InviteUsable(inv, f.now()) != nil {
		return Step{}, ErrUnusable
	}
	key := newKey()
	sess, err := plex.NewProvider(f.plex, forwardURL).BeginAuthContext(ctx, key)
	if err != nil {
		return Step{}, fmt.Errorf("starting the Plex sign-in: %w", err)
	}
	now := f.now().UTC()
	deadline := now.Add(f.ttl)
	if !sess.ExpiresAt.IsZero() && sess.ExpiresAt.Before(deadline) && sess.ExpiresAt.After(now) {
		deadline = sess.ExpiresAt
	}
	rec := flowRecord{Stage: stagePlex, InviteID: inv.ID, IP: ip, Session: sess, Deadline: deadline}
	if err := f.put(key, rec, f.ttl); err != nil {
		return Step{}, err
	}
	return Step{Kind: StepRedirect, Key: key, URL: sess.AuthURL, Invite: inv}, nil
}

// Resume continues flow key when the browser returns from Plex (state is the forward URL's state
// parameter, which must equal the key) or refreshes the waiting page.
func (f *Flow) Resume(ctx context.Context, key, state string) (Step, error) {
	if !validKey(key) || subtle.ConstantTimeCompare([]byte(key), []byte(state)) != 1 {
		return Step{}, ErrFlowNotFound
	}
	rec, err := f.peek(key)
	if err != nil {
		return Step{}, err
	}
	if rec.Stage != stagePlex {
		return f.stepOf(key, rec), nil
	}
	if !f.now().Before(rec.Deadline) {
		return f.fail(key, rec, "The Plex sign-in took too long. Start again from the invite page.")
	}
	provider := plex.NewProvider(f.plex, "http://unused.invalid/")
	sess := *rec.Session
	if _, err := sess.AuthorizeContext(ctx, provider, nil); err != nil {
		switch {
		case errors.Is(err, plex.ErrPINPending), errors.Is(err, plex.ErrOffline), errors.Is(err, plex.ErrRateLimited):
			return Step{Kind: StepWait, Key: key, Invite: f.invite(rec.InviteID), Deadline: rec.Deadline}, nil
		case errors.Is(err, plex.ErrPINExpired):
			return f.fail(key, rec, "The Plex sign-in expired. Start again from the invite page.")
		}
		f.log.Warn("checking an invite sign-in PIN", zap.Error(err))
		return f.fail(key, rec, "The Plex sign-in could not be checked. Start again from the invite page.")
	}
	user, err := provider.FetchUserContext(ctx, &sess)
	if err != nil {
		if errors.Is(err, plex.ErrOffline) || errors.Is(err, plex.ErrRateLimited) {
			return Step{Kind: StepWait, Key: key, Invite: f.invite(rec.InviteID), Deadline: rec.Deadline}, nil
		}
		f.log.Warn("reading the Plex account of an invite sign-in", zap.Error(err))
		return f.fail(key, rec, "Your Plex account could not be read. Start again from the invite page.")
	}
	acct, err := accountOf(user.UserID, user.RawData, user.AvatarURL)
	if err != nil {
		return f.fail(key, rec, "Plex returned an account this page cannot use.")
	}
	inv := f.invite(rec.InviteID)
	mode := discordMode(inv.Discord)
	next := stageRedeeming
	if mode != storage.DiscordOff {
		if f.discord == nil {
			if mode == storage.DiscordRequired {
				return f.fail(key, rec, "This invite requires Discord sign-in, which is not available right now. Please tell the person who invited you.")
			}
		} else {
			next = stageDiscord
		}
	}
	rec, moved, err := f.transition(key, stagePlex, func(r *flowRecord) {
		r.Stage, r.Account = next, &acct
		r.Session = &sess // now holds the token
		if next == stageDiscord {
			r.DiscordState, r.Verifier = newKey(), discord.NewVerifier()
		}
	})
	if err != nil {
		return Step{}, err
	}
	if !moved {
		return f.stepOf(key, rec), nil // another request took this step
	}
	if next == stageRedeeming {
		return f.redeem(ctx, key, rec)
	}
	return f.stepOf(key, rec), nil
}

// StartDiscord sends the person of flow key to Discord (the "Sign in with Discord" button);
// Discord sends the browser back to redirectURL (the invite handler's Discord callback).
func (f *Flow) StartDiscord(ctx context.Context, key, redirectURL string) (Step, error) {
	rec, err := f.load(key)
	if err != nil {
		return Step{}, err
	}
	if rec.Stage != stageDiscord || f.discord == nil {
		return f.stepOf(key, rec), nil
	}
	rec, _, err = f.transition(key, stageDiscord, func(r *flowRecord) {
		r.DiscordState, r.Verifier, r.Notice, r.DiscordRedirect = newKey(), discord.NewVerifier(), "", redirectURL
	})
	if err != nil {
		return Step{}, err
	}
	return f.discordRedirect(key, rec), nil
}

// SkipDiscord continues flow key without Discord (optional Discord only).
func (f *Flow) SkipDiscord(ctx context.Context, key string) (Step, error) {
	rec, err := f.load(key)
	if err != nil {
		return Step{}, err
	}
	inv := f.invite(rec.InviteID)
	if rec.Stage != stageDiscord || discordMode(inv.Discord) == storage.DiscordRequired {
		return f.stepOf(key, rec), nil
	}
	rec, moved, err := f.transition(key, stageDiscord, func(r *flowRecord) {
		r.Stage, r.DiscordState, r.Verifier = stageRedeeming, "", ""
	})
	if err != nil {
		return Step{}, err
	}
	if !moved {
		return f.stepOf(key, rec), nil
	}
	return f.redeem(ctx, key, rec)
}

// DiscordReturn continues flow key when Discord sends the browser back with state and code (or
// oauthErr, e.g. access_denied when the person cancelled).
func (f *Flow) DiscordReturn(ctx context.Context, key, state, code, oauthErr string) (Step, error) {
	rec, err := f.load(key)
	if err != nil {
		return Step{}, err
	}
	if rec.Stage != stageDiscord || f.discord == nil {
		return f.stepOf(key, rec), nil
	}
	if rec.DiscordState == "" || subtle.ConstantTimeCompare([]byte(state), []byte(rec.DiscordState)) != 1 {
		return Step{}, ErrFlowNotFound
	}
	verifier, redirect := rec.Verifier, rec.DiscordRedirect
	// The Discord state is single use: rotate it before anything else.
	rec, moved, err := f.transition(key, stageDiscord, func(r *flowRecord) {
		if r.DiscordState != state {
			return
		}
		r.DiscordState, r.Verifier = newKey(), discord.NewVerifier()
	})
	if err != nil {
		return Step{}, err
	}
	if !moved || rec.DiscordState == state {
		return f.stepOf(key, rec), nil
	}
	notice := func(msg string) (Step, error) {
		rec, _, err := f.transition(key, stageDiscord, func(r *flowRecord) { r.Notice = msg })
		if err != nil {
			return Step{}, err
		}
		return f.stepOf(key, rec), nil
	}
	if oauthErr != "" || code == "" {
		return notice("Discord sign-in was cancelled.")
	}
	inv := f.invite(rec.InviteID)
	guild := f.svc.GuildFor(inv)
	id, err := f.discord.Identify(ctx, code, verifier, redirect, guild != "")
	if err != nil {
		f.log.Warn("completing a Discord sign-in", zap.Error(err))
		return notice("Discord sign-in did not work. Please try again.")
	}
	if guild != "" && !id.InGuild(guild) {
		return notice("Your Discord account is not a member of the required Discord server. Join it, then sign in with Discord again.")
	}
	ident := DiscordIdentity{ID: id.User.ID, Name: id.User.Name(), Guilds: id.Guilds}
	rec, moved, err = f.transition(key, stageDiscord, func(r *flowRecord) {
		r.Stage, r.Discord, r.DiscordState, r.Verifier, r.Notice = stageRedeeming, &ident, "", "", ""
	})
	if err != nil {
		return Step{}, err
	}
	if !moved {
		return f.stepOf(key, rec), nil
	}
	return f.redeem(ctx, key, rec)
}

// redeem runs the redemption of a flow that just entered stageRedeeming, then records the result
// (dropping the token).
func (f *Flow) redeem(ctx context.Context, key string, rec flowRecord) (Step, error) {
	req := RedeemRequest{InviteID: rec.InviteID, Account: *rec.Account, Token: rec.Session.Token, Discord: rec.Discord, IP: rec.IP}
	res, err := f.svc.Redeem(ctx, req)
	if err != nil {
		var rerr *RedeemError
		reason := Explain(err)
		if errors.As(err, &rerr) {
			reason = rerr.Reason
		}
		return f.fail(key, rec, reason)
	}
	rec, _, err = f.transition(key, stageRedeeming, func(r *flowRecord) {
		r.Stage, r.Result = stageDone, &res
		r.Session.Token = ""
	})
	if err != nil {
		return Step{}, err
	}
	return f.stepOf(key, rec), nil
}

// fail ends flow key with reason (dropping the token).
func (f *Flow) fail(key string, rec flowRecord, reason string) (Step, error) {
	rec, _, err := f.transition(key, rec.Stage, func(r *flowRecord) {
		r.Stage, r.Reason = stageFailed, reason
		if r.Session != nil {
			r.Session.Token = ""
		}
	})
	if err != nil {
		return Step{}, err
	}
	return f.stepOf(key, rec), nil
}

// stepOf describes the current stage of a flow.
func (f *Flow) stepOf(key string, rec flowRecord) Step {
	st := Step{Key: key, Invite: f.invite(rec.InviteID), Deadline: rec.Deadline}
	switch rec.Stage {
	case stagePlex, stageRedeeming:
		st.Kind = StepWait
	case stageDiscord:
		st.Kind, st.Reason = StepDiscord, rec.Notice
		st.DiscordRequired = discordMode(st.Invite.Discord) == storage.DiscordRequired
	case stageDone:
		st.Kind, st.Result = StepDone, rec.Result
	default:
		st.Kind, st.Reason = StepFailed, rec.Reason
	}
	return st
}

// discordRedirect is the redirect to Discord for the flow's current Discord state.
func (f *Flow) discordRedirect(key string, rec flowRecord) Step {
	inv := f.invite(rec.InviteID)
	return Step{Kind: StepRedirect, Key: key, Invite: inv,
		URL: f.discord.AuthCodeURL(rec.DiscordState, rec.Verifier, rec.DiscordRedirect, f.svc.GuildFor(inv) != "")}
}

// invite returns the flow's invite, or the zero invite when it was deleted.
func (f *Flow) invite(id string) storage.Invite {
	inv, err := f.svc.store.GetInvite(id)
	if err != nil {
		return storage.Invite{}
	}
	return inv
}

// accountOf builds the Account from the goth user the Plex provider returned.
func accountOf(userID string, raw map[string]any, thumb string) (Account, error) {
	id, err := strconv.ParseInt(userID, 10, 64)
	if err != nil || id <= 0 {
		return Account{}, fmt.Errorf("bad plex account id %q", userID)
	}
	str := func(k string) string {
		v, _ := raw[k].(string)
		return v
	}
	return Account{ID: id, UUID: str("uuid"), Username: str("username"), Email: str("email"), Title: str("title"), Thumb: thumb}, nil
}

// put stores rec under key for ttl.
func (f *Flow) put(key string, rec flowRecord, ttl time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding the sign-in state: %w", err)
	}
	if err := f.svc.store.PutState(FlowStateKind, key, b, ttl); err != nil {
		return fmt.Errorf("storing the sign-in state: %w", err)
	}
	return nil
}

// load reads flow key without changing it.
func (f *Flow) load(key string) (flowRecord, error) {
	if !validKey(key) {
		return flowRecord{}, ErrFlowNotFound
	}
	return f.peek(key)
}

// peek reads flow key (a take and put back in one transaction: the store has no plain read of an
// ephemeral state).
func (f *Flow) peek(key string) (flowRecord, error) {
	rec, _, err := f.transition(key, "", nil)
	return rec, err
}

// transition reads flow key and, when its stage is from, applies fn and stores the result, all in
// one transaction; moved reports whether fn ran. from "" (with a nil fn) only reads. A missing or
// expired flow is ErrFlowNotFound.
func (f *Flow) transition(key, from string, fn func(*flowRecord)) (rec flowRecord, moved bool, err error) {
	err = f.svc.store.Update(func(tx *storage.Tx) error {
		rec, moved = flowRecord{}, false
		raw, err := tx.States().Take(FlowStateKind, key)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decoding the sign-in state: %w", err)
		}
		if fn != nil && rec.Stage == from {
			fn(&rec)
			moved = true
			if raw, err = json.Marshal(rec); err != nil {
				return fmt.Errorf("encoding the sign-in state: %w", err)
			}
		}
		ttl := f.ttl
		if rec.Stage == stageDone || rec.Stage == stageFailed {
			ttl = doneTTL
		}
		return tx.States().Put(FlowStateKind, key, raw, ttl)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return flowRecord{}, false, ErrFlowNotFound
	}
	if err != nil {
		return flowRecord{}, false, fmt.Errorf("invite sign-in state: %w", err)
	}
	return rec, moved, nil
}
