package invite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/plex-manager/caddy-plex-manager/access"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Invite event types.
const (
	EventCreated  = "invite.created"
	EventEdited   = "invite.edited"
	EventDeleted  = "invite.deleted"
	EventRedeemed = "invite.redeemed"
	EventFailed   = "invite.failed"
)

// Access is what redemption needs from the access engine; *access.Service implements it. Every
// Plex change goes through it, so its outbox and audit apply.
type Access interface {
	// Grant creates or updates the user and shares (or schedules) the given libraries.
	Grant(ctx context.Context, actor string, req access.GrantRequest) (access.GrantResult, error)
	// ApplyShare makes one share equal to want (used to restore a share on rollback).
	ApplyShare(ctx context.Context, actor string, userID int64, serverID string, want storage.Share, reason string) (storage.Share, error)
	// RevokeShare removes one share (used to undo a share on rollback).
	RevokeShare(ctx context.Context, actor string, userID int64, serverID, reason string) error
}

// Options configure New. Store is required; Access is required to redeem.
type Options struct {
	// Store is the shared store.
	Store *storage.Store
	// Access carries out the Plex changes of a redemption.
	Access Access
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives warnings (default: discard). Tokens are never logged.
	Logger *zap.Logger
	// LinkBase returns the absolute URL invite links start with: the public URL followed by the
	// invite handler's base path ("https://join.example.com" or "https://example.com/join"). It is
	// read at every use, so a public URL changed in the settings applies at once. Nil or "" makes
	// URL return "".
	LinkBase func() string
	// DiscordEnabled reports whether Discord sign-in is configured (invites may then use it).
	DiscordEnabled func() bool
	// DefaultGuildID is the guild required of Discord sign-ins when an invite names none ("" for
	// none).
	DefaultGuildID string
	// StaleReservation is how long a reserved use may stay unfinished before another attempt by the
	// same account takes it over (default 15 minutes).
	StaleReservation time.Duration
	// Generation, when set, returns the store's change counter: a value that differs from every
	// earlier one once a write to Store has committed (it must change only after the write is
	// visible to new read transactions). LookupOffer then keeps what it read per code and serves
	// it again while the value is unchanged, re-checking usability against the clock every time;
	// any write anywhere in the store drops the kept reads. Nil: every LookupOffer reads the store.
	Generation func() uint64
}

// Service manages invites and redeems them. It is safe for concurrent use.
type Service struct {
	store   *storage.Store
	access  Access
	now     func() time.Time
	log     *zap.Logger
	link    func() string
	discord func() bool
	guild   string
	stale   time.Duration
	md      *Markdown
	gen     func() uint64
	offers  *offerCache // nil without Options.Generation
}

// New checks opts and returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("invite: Options.Store is required")
	}
	s := &Service{
		store: opts.Store, access: opts.Access, now: opts.Now, log: opts.Logger, link: opts.LinkBase,
		discord: opts.DiscordEnabled, guild: strings.TrimSpace(opts.DefaultGuildID), stale: opts.StaleReservation,
		md: NewMarkdown(), gen: opts.Generation,
	}
	if s.gen != nil {
		s.offers = newOfferCache(maxCachedOffers)
	}
	if s.guild != "" && !isSnowflake(s.guild) {
		return nil, fmt.Errorf("invite: default Discord guild id %q is not a Discord id", s.guild)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.stale <= 0 {
		s.stale = 15 * time.Minute
	}
	return s, nil
}

// clock returns the current time in UTC.
func (s *Service) clock() time.Time { return s.now().UTC() }

// discordEnabled reports whether Discord sign-in is configured.
func (s *Service) discordEnabled() bool { return s.discord != nil && s.discord() }

// DiscordAvailable reports whether Discord sign-in is configured, so invites may ask for it.
func (s *Service) DiscordAvailable() bool { return s.discordEnabled() }

// Markdown returns the onboarding renderer.
func (s *Service) Markdown() *Markdown { return s.md }

// URL returns the absolute link of inv ("" without a link base).
func (s *Service) URL(inv storage.Invite) string {
	if s.link == nil {
		return ""
	}
	base := strings.TrimRight(s.link(), "/")
	if base == "" {
		return ""
	}
	return base + "/" + url.PathEscape(inv.Code)
}

// LinkBase returns the link base ("" when not configured).
func (s *Service) LinkBase() string {
	if s.link == nil {
		return ""
	}
	return strings.TrimRight(s.link(), "/")
}

// Get returns invite id (ErrNotFound when there is none).
func (s *Service) Get(id string) (storage.Invite, error) {
	inv, err := s.store.GetInvite(id)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalid) {
		return storage.Invite{}, ErrNotFound
	}
	if err != nil {
		return storage.Invite{}, fmt.Errorf("reading invite: %w", err)
	}
	return inv, nil
}

// List returns every invite, newest first.
func (s *Service) List() ([]storage.Invite, error) {
	list, err := s.store.ListInvites()
	if err != nil {
		return nil, fmt.Errorf("listing invites: %w", err)
	}
	return list, nil
}

// Redemptions returns the usage history of invite id, oldest first.
func (s *Service) Redemptions(id string) ([]storage.Redemption, error) {
	if _, err := s.Get(id); err != nil {
		return nil, err
	}
	list, err := s.store.RedemptionsByInvite(id)
	if err != nil {
		return nil, fmt.Errorf("listing redemptions: %w", err)
	}
	return list, nil
}

// Servers returns the stored servers (the libraries an invite may offer).
func (s *Service) Servers() ([]storage.Server, error) {
	list, err := s.store.ListServers()
	if err != nil {
		return nil, fmt.Errorf("listing servers: %w", err)
	}
	return list, nil
}

// checkContext builds the validation context (old: the edited invite, nil on create).
func (s *Service) checkContext(old *storage.Invite) (checkContext, error) {
	servers, err := s.Servers()
	if err != nil {
		return checkContext{}, err
	}
	return checkContext{servers: servers, now: s.clock(), discord: s.discordEnabled(), old: old}, nil
}

// maxCodeAttempts bounds retries when a random code collides (astronomically unlikely).
const maxCodeAttempts = 5

// Create validates spec and stores a new invite; a random code is chosen when spec.Code is empty.
// Bad input is a *FieldError (nothing stored); a custom code already in use is a *FieldError on
// "code". An invite.created event is recorded in the same transaction.
func (s *Service) Create(ctx context.Context, actor string, spec Spec) (storage.Invite, error) {
	cc, err := s.checkContext(nil)
	if err != nil {
		return storage.Invite{}, err
	}
	spec, err = spec.normalize(cc)
	if err != nil {
		return storage.Invite{}, err
	}
	now := cc.now
	inv := storage.Invite{ID: storage.NewID(), Code: spec.Code, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	spec.apply(&inv)
	for attempt := 0; ; attempt++ {
		random := spec.Code == ""
		if random {
			inv.Code = NewCode()
		}
		ev := inviteEvent(now, EventCreated, actor, inv, fmt.Sprintf("Invite %s created (%s)", describeInvite(inv), spec.describe()))
		err = s.store.Update(func(tx *storage.Tx) error {
			if err := tx.Invites().Put(inv); err != nil {
				return err
			}
			_, err := tx.Events().Append(ev)
			return err
		})
		switch {
		case err == nil:
			return inv, nil
		case errors.Is(err, storage.ErrExists) && random && attempt < maxCodeAttempts:
			continue
		case errors.Is(err, storage.ErrExists):
			return storage.Invite{}, fieldErr("code", "is already used by another invite")
		}
		return storage.Invite{}, fmt.Errorf("storing invite: %w", err)
	}
}

// Update validates spec against invite id and replaces its settings (uses and creation data are
// kept). The code may change (the old link stops working). An invite.edited event lists the
// changed fields.
func (s *Service) Update(ctx context.Context, actor, id string, spec Spec) (storage.Invite, error) {
	old, err := s.Get(id)
	if err != nil {
		return storage.Invite{}, err
	}
	cc, err := s.checkContext(&old)
	if err != nil {
		return storage.Invite{}, err
	}
	spec, err = spec.normalize(cc)
	if err != nil {
		return storage.Invite{}, err
	}
	var out storage.Invite
	err = s.store.Update(func(tx *storage.Tx) error {
		cur, err := tx.Invites().Get(id) // re-read: Uses may have moved since
		if err != nil {
			return err
		}
		next := cur
		spec.apply(&next)
		next.Code = spec.Code
		next.UpdatedAt = cc.now
		changed := changedFields(cur, next)
		if len(changed) == 0 {
			out = cur
			return nil
		}
		if err := tx.Invites().Put(next); err != nil {
			return err
		}
		ev := inviteEvent(cc.now, EventEdited, actor, next, fmt.Sprintf("Invite %s edited: %s", describeInvite(next), strings.Join(changed, ", ")))
		ev.Data["changed"] = changed
		if _, err := tx.Events().Append(ev); err != nil {
			return err
		}
		out = next
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrExists):
		return storage.Invite{}, fieldErr("code", "is already used by another invite")
	case errors.Is(err, storage.ErrNotFound):
		return storage.Invite{}, ErrNotFound
	case err != nil:
		return storage.Invite{}, fmt.Errorf("storing invite: %w", err)
	}
	return out, nil
}

// SetEnabled enables or disables invite id (an edit of one field).
func (s *Service) SetEnabled(ctx context.Context, actor, id string, enabled bool) (storage.Invite, error) {
	inv, err := s.Get(id)
	if err != nil {
		return storage.Invite{}, err
	}
	spec := SpecOf(inv)
	spec.Enabled = enabled
	return s.Update(ctx, actor, id, spec)
}

// Delete removes invite id; its redemptions stay as history, and users who joined with it keep
// their access. An invite.deleted event is recorded in the same transaction.
func (s *Service) Delete(ctx context.Context, actor, id string) error {
	now := s.clock()
	err := s.store.Update(func(tx *storage.Tx) error {
		inv, err := tx.Invites().Get(id)
		if err != nil {
			return err
		}
		if err := tx.Invites().Delete(id); err != nil {
			return err
		}
		_, err = tx.Events().Append(inviteEvent(now, EventDeleted, actor, inv,
			fmt.Sprintf("Invite %s deleted after %d uses", describeInvite(inv), inv.Uses)))
		return err
	})
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalid) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting invite: %w", err)
	}
	return nil
}

// Lookup returns the invite with code if it can be used at the moment; any other case (unknown,
// disabled, expired, used up, malformed) is ErrUnusable, without saying which. A store that cannot
// be read (closed while Caddy stops or reloads, failing) is not the code's fault: that error is
// returned wrapped (storage.ErrClosed, …), the same for every code, so the page can say "try
// again later" without telling codes apart.
func (s *Service) Lookup(code string) (storage.Invite, error) {
	if !plausibleCode(code) {
		return storage.Invite{}, ErrUnusable
	}
	inv, err := s.store.InviteByCode(code)
	if err != nil {
		return storage.Invite{}, lookupErr(err)
	}
	if storage.InviteUsable(inv, s.clock()) != nil {
		return storage.Invite{}, ErrUnusable
	}
	return inv, nil
}

// LookupOffer is Lookup that also reads, in the same read transaction, the stored servers the
// invite offers libraries of (in id order, as Servers lists them): everything the public invite
// page shows, at the cost of one transaction and only the servers it names. A named server that is
// not stored is left out; one that cannot be read is logged and left out, as the page does when
// the servers cannot be listed. A store failure is returned as Lookup returns it.
//
// With Options.Generation, what was read for a code is kept while the store is unchanged, and the
// returned invite and servers are shared by the callers of that time: treat them as read-only.
// Usability is checked against the clock at every call, so expiry is exact; uses, enabling and
// every other field change only by a write, which drops what was kept.
func (s *Service) LookupOffer(code string) (storage.Invite, []storage.Server, error) {
	if !plausibleCode(code) {
		return storage.Invite{}, nil, ErrUnusable
	}
	now := s.clock()
	var (
		o   offer
		ok  bool
		gen uint64
	)
	if s.offers != nil {
		// Read the counter before the store: a write committed after this point changes it,
		// so what is read below is never kept past that write.
		gen = s.gen()
		o, ok = s.offers.get(code, gen)
	}
	if !ok {
		var err error
		if o, err = s.readOffer(code, now); err != nil {
			return storage.Invite{}, nil, lookupErr(err)
		}
		if s.offers != nil {
			s.offers.put(code, gen, o)
		}
	}
	if storage.InviteUsable(o.inv, now) != nil {
		return storage.Invite{}, nil, ErrUnusable
	}
	return o.inv, o.servers, nil
}

// lookupErr is what Lookup returns for a failed read by code: ErrUnusable for an unknown or
// malformed code, the store failure (wrapped) otherwise. The code is not part of the error.
func lookupErr(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalid) {
		return ErrUnusable
	}
	return fmt.Errorf("reading an invite by code: %w", err)
}

// readOffer reads the invite with code and, when it is usable at now, the servers it names.
func (s *Service) readOffer(code string, now time.Time) (offer, error) {
	var o offer
	err := s.store.View(func(tx *storage.Tx) error {
		var err error
		if o.inv, err = tx.Invites().ByCode(code); err != nil {
			return err
		}
		if storage.InviteUsable(o.inv, now) != nil {
			// It can only become usable again through a write (enabling it, more uses, a
			// later expiry), which would drop it from the cache: its servers are never needed.
			return nil
		}
		ids := make([]string, 0, len(o.inv.Libraries))
		for id := range o.inv.Libraries {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		o.servers = make([]storage.Server, 0, len(ids))
		for _, id := range ids {
			srv, err := tx.Servers().Get(id)
			switch {
			case err == nil:
				o.servers = append(o.servers, srv)
			case !errors.Is(err, storage.ErrNotFound):
				s.log.Warn("reading a server for an invite page", zap.Error(err))
			}
		}
		return nil
	})
	return o, err
}

// inviteEvent builds an invite event with its id fixed now (a retried transaction writes it once).
func inviteEvent(at time.Time, typ, actor string, inv storage.Invite, msg string) storage.Event {
	return storage.Event{
		ID: storage.NewEventID(at), At: at, Type: typ, Actor: actor, InviteID: inv.ID, Message: msg,
		Data: map[string]any{"code": inv.Code},
	}
}

// describeInvite names an invite in a sentence: its label, else its code's start.
func describeInvite(inv storage.Invite) string {
	if inv.Label != "" {
		return fmt.Sprintf("%q", inv.Label)
	}
	c := inv.Code
	if len(c) > 8 {
		c = c[:8] + "…"
	}
	return c
}

// changedFields names the settings that differ between two versions of an invite.
func changedFields(a, b storage.Invite) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("code", a.Code != b.Code)
	add("label", a.Label != b.Label)
	add("expires_at", !sameTime(a.ExpiresAt, b.ExpiresAt))
	add("max_uses", a.MaxUses != b.MaxUses)
	add("libraries", !sameLibraries(a.Libraries, b.Libraries))
	add("allow_downloads", a.AllowDownloads != b.AllowDownloads)
	add("filters", a.Filters != b.Filters)
	add("membership_days", a.MembershipDays != b.MembershipDays)
	add("starts_at", !sameTime(a.StartsAt, b.StartsAt))
	add("discord", discordMode(a.Discord) != discordMode(b.Discord) || a.DiscordGuildID != b.DiscordGuildID)
	add("onboarding", a.Onboarding != b.Onboarding)
	add("enabled", a.Enabled != b.Enabled)
	return out
}

// sameTime compares optional times.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// sameLibraries compares library maps.
func sameLibraries(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for id, keys := range a {
		other, ok := b[id]
		if !ok || strings.Join(keys, "\x00") != strings.Join(other, "\x00") {
			return false
		}
	}
	return true
}
