package invites

import (
	"errors"
	"net/http"
	"time"

	"github.com/plex-manager/caddy-plex-manager/access/invite"
	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Invite is an invite in the REST API (DESIGN.md's field names).
type Invite struct {
	ID             string              `json:"id"`
	Code           string              `json:"code"`
	URL            string              `json:"url"`
	Label          string              `json:"label"`
	ExpiresAt      *time.Time          `json:"expires_at"`
	MaxUses        int                 `json:"max_uses"`
	Uses           int                 `json:"uses"`
	Libraries      map[string][]string `json:"libraries"`
	AllowDownloads bool                `json:"allow_downloads"`
	MembershipDays int                 `json:"membership_days"`
	StartsAt       *time.Time          `json:"starts_at"`
	Discord        string              `json:"discord"`
	DiscordGuildID string              `json:"discord_guild_id"`
	Filters        Filters             `json:"filters"`
	Onboarding     string              `json:"onboarding"`
	Enabled        bool                `json:"enabled"`
	// State is active, disabled, expired or used up.
	State     string    `json:"state"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Filters are Plex restriction filters per media type, in Plex's syntax
// ("contentRating=G%2CPG|label!=adult"); music allows labels only.
type Filters struct {
	Movies     string `json:"movies"`
	Television string `json:"television"`
	Music      string `json:"music"`
}

// InviteInput is the body of POST /invites (all fields optional but libraries; code "" or absent
// picks a random code; enabled defaults to true) and of PATCH /invites/{id} (only the fields
// given change; expires_at and starts_at take null to clear).
type InviteInput struct {
	Code           *string              `json:"code,omitempty"`
	Label          *string              `json:"label,omitempty"`
	ExpiresAt      ExpiresAtInput       `json:"expires_at,omitzero"`
	MaxUses        *int                 `json:"max_uses,omitempty"`
	Libraries      *map[string][]string `json:"libraries,omitempty"`
	AllowDownloads *bool                `json:"allow_downloads,omitempty"`
	MembershipDays *int                 `json:"membership_days,omitempty"`
	StartsAt       StartsAtInput        `json:"starts_at,omitzero"`
	Discord        *string              `json:"discord,omitempty"`
	DiscordGuildID *string              `json:"discord_guild_id,omitempty"`
	Filters        *Filters             `json:"filters,omitempty"`
	Onboarding     *string              `json:"onboarding,omitempty"`
	Enabled        *bool                `json:"enabled,omitempty"`
}

// ExpiresAtInput is the expires_at field of InviteInput.
type ExpiresAtInput struct{ web.OptionalTime }

// UnmarshalJSON reads null or an RFC 3339 time.
func (o *ExpiresAtInput) UnmarshalJSON(b []byte) error { return o.Decode("expires_at", b) }

// StartsAtInput is the starts_at field of InviteInput.
type StartsAtInput struct{ web.OptionalTime }

// UnmarshalJSON reads null or an RFC 3339 time.
func (o *StartsAtInput) UnmarshalJSON(b []byte) error { return o.Decode("starts_at", b) }

// Redemption is one use (or attempted use) of an invite in the REST API.
type Redemption struct {
	ID       string    `json:"id"`
	UserID   int64     `json:"user_id,omitempty"`
	Username string    `json:"username,omitempty"`
	At       time.Time `json:"at"`
	IP       string    `json:"ip,omitempty"`
	// Outcome is reserved, joined, updated or failed.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// apiRoutes registers the REST routes.
func (f *Feature) apiRoutes(r web.Router) {
	tags := []string{"invites"}
	id := []web.Param{{Name: "id", In: web.ParamPath, Description: "the invite's id"}}
	r.API(http.MethodGet, "/invites", web.RoleAuditor, f.apiList, web.APIDoc{
		Summary: "List invites", Description: "Every invite, newest first.", Tags: tags, Response: []Invite{}})
	r.API(http.MethodPost, "/invites", web.RoleModerator, f.apiCreate, web.APIDoc{
		Summary: "Create an invite", Tags: tags, Request: InviteInput{}, Response: Invite{}, Status: http.StatusCreated,
		Description: "All fields are optional but libraries (server id → server library keys). A custom path goes in code; " +
			"without one a random 128-bit code is chosen. The answer carries the code and the full url. " +
			"Bad input is a 400 naming the field; nothing is stored."})
	r.API(http.MethodGet, "/invites/{id}", web.RoleAuditor, f.apiGet, web.APIDoc{
		Summary: "One invite", Tags: tags, Params: id, Response: Invite{}, Errors: []int{http.StatusNotFound}})
	r.API(http.MethodPatch, "/invites/{id}", web.RoleModerator, f.apiPatch, web.APIDoc{
		Summary: "Change an invite", Tags: tags, Params: id, Request: InviteInput{}, Response: Invite{},
		Errors:      []int{http.StatusNotFound},
		Description: "Only the fields given change; expires_at and starts_at take null to clear them."})
	r.API(http.MethodDelete, "/invites/{id}", web.RoleModerator, f.apiDelete, web.APIDoc{
		Summary: "Delete an invite", Tags: tags, Params: id, Errors: []int{http.StatusNotFound},
		Description: "Its usage history stays; people who joined with it keep their access."})
	r.API(http.MethodGet, "/invites/{id}/redemptions", web.RoleAuditor, f.apiRedemptions, web.APIDoc{
		Summary: "Usage history of an invite", Tags: tags, Params: id, Response: []Redemption{},
		Errors: []int{http.StatusNotFound}, Description: "Who used it, when, from which address, with which outcome (oldest first)."})
	r.API(http.MethodGet, "/invites/{id}/qr.png", web.RoleAuditor, f.qrPNG, web.APIDoc{
		Summary: "QR code of an invite link (PNG)", Tags: tags, Status: http.StatusOK,
		Params: append(id, web.Param{Name: "scale", In: web.ParamQuery, Type: "integer", Description: "pixels per module, 1 to 32 (default 8)"}),
		Errors: []int{http.StatusNotFound, http.StatusConflict}, Description: "Answers image/png; 409 when no public URL is configured."})
	r.API(http.MethodGet, "/invites/{id}/qr.svg", web.RoleAuditor, f.qrSVG, web.APIDoc{
		Summary: "QR code of an invite link (SVG)", Tags: tags, Params: id, Status: http.StatusOK,
		Errors: []int{http.StatusNotFound, http.StatusConflict}, Description: "Answers image/svg+xml; 409 when no public URL is configured."})
}

// toAPI converts an invite for the API.
func (f *Feature) toAPI(inv storage.Invite) Invite {
	libs := inv.Libraries
	if libs == nil {
		libs = map[string][]string{}
	}
	discord := inv.Discord
	if discord == "" {
		discord = storage.DiscordOff
	}
	return Invite{
		ID: inv.ID, Code: inv.Code, URL: f.svc.URL(inv), Label: inv.Label, ExpiresAt: inv.ExpiresAt, MaxUses: inv.MaxUses,
		Uses: inv.Uses, Libraries: libs, AllowDownloads: inv.AllowDownloads, MembershipDays: inv.MembershipDays,
		StartsAt: inv.StartsAt, Discord: discord, DiscordGuildID: inv.DiscordGuildID,
		Filters:    Filters{Movies: inv.Filters.Movies, Television: inv.Filters.Television, Music: inv.Filters.Music},
		Onboarding: inv.Onboarding, Enabled: inv.Enabled, State: inviteState(inv, f.now()), CreatedBy: inv.CreatedBy,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
	}
}

// apply writes the given fields of in onto spec.
func (in InviteInput) apply(spec *invite.Spec) {
	if in.Code != nil {
		spec.Code = *in.Code
	}
	if in.Label != nil {
		spec.Label = *in.Label
	}
	if in.ExpiresAt.Set {
		spec.ExpiresAt = in.ExpiresAt.Time
	}
	if in.MaxUses != nil {
		spec.MaxUses = *in.MaxUses
	}
	if in.Libraries != nil {
		spec.Libraries = *in.Libraries
	}
	if in.AllowDownloads != nil {
		spec.AllowDownloads = *in.AllowDownloads
	}
	if in.MembershipDays != nil {
		spec.MembershipDays = *in.MembershipDays
	}
	if in.StartsAt.Set {
		spec.StartsAt = in.StartsAt.Time
	}
	if in.Discord != nil {
		spec.Discord = *in.Discord
	}
	if in.DiscordGuildID != nil {
		spec.DiscordGuildID = *in.DiscordGuildID
	}
	if in.Filters != nil {
		spec.Filters = storage.Filters{Movies: in.Filters.Movies, Television: in.Filters.Television, Music: in.Filters.Music}
	}
	if in.Onboarding != nil {
		spec.Onboarding = *in.Onboarding
	}
	if in.Enabled != nil {
		spec.Enabled = *in.Enabled
	}
}

// apiList answers GET /invites.
func (f *Feature) apiList(w http.ResponseWriter, r *http.Request) {
	list, err := f.svc.List()
	if err != nil {
		f.serverError(w, r, "listing invites", err)
		return
	}
	out := make([]Invite, 0, len(list))
	for _, inv := range list {
		out = append(out, f.toAPI(inv))
	}
	web.JSON(w, http.StatusOK, out)
}

// apiCreate answers POST /invites.
func (f *Feature) apiCreate(w http.ResponseWriter, r *http.Request) {
	var in InviteInput
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	if in.Libraries == nil {
		web.BadInput(w, "libraries", "is required")
		return
	}
	spec := invite.Spec{Enabled: true}
	in.apply(&spec)
	inv, err := f.svc.Create(r.Context(), actor(r), spec)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", web.URL(r, web.APIPrefix+"/invites", inv.ID))
	web.JSON(w, http.StatusCreated, f.toAPI(inv))
}

// apiGet answers GET /invites/{id}.
func (f *Feature) apiGet(w http.ResponseWriter, r *http.Request) {
	inv, err := f.svc.Get(r.PathValue("id"))
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, f.toAPI(inv))
}

// apiPatch answers PATCH /invites/{id}.
func (f *Feature) apiPatch(w http.ResponseWriter, r *http.Request) {
	var in InviteInput
	if !web.DecodeJSON(w, r, &in) {
		return
	}
	inv, err := f.svc.Get(r.PathValue("id"))
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	spec := invite.SpecOf(inv)
	in.apply(&spec)
	inv, err = f.svc.Update(r.Context(), actor(r), inv.ID, spec)
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, f.toAPI(inv))
}

// apiDelete answers DELETE /invites/{id}.
func (f *Feature) apiDelete(w http.ResponseWriter, r *http.Request) {
	if err := f.svc.Delete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		f.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRedemptions answers GET /invites/{id}/redemptions.
func (f *Feature) apiRedemptions(w http.ResponseWriter, r *http.Request) {
	list, err := f.svc.Redemptions(r.PathValue("id"))
	if err != nil {
		f.apiError(w, r, err)
		return
	}
	out := make([]Redemption, 0, len(list))
	for _, red := range list {
		out = append(out, Redemption{ID: red.ID, UserID: red.UserID, Username: red.Username, At: red.At, IP: red.IP,
			Outcome: red.Outcome, Reason: red.Reason})
	}
	web.JSON(w, http.StatusOK, out)
}

// apiError answers a service error: 400 naming the field, 404, or a server error (507, 503, 500).
func (f *Feature) apiError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *invite.FieldError
	switch {
	case errors.As(err, &fe):
		web.BadInput(w, fe.Field, fe.Message)
	case errors.Is(err, invite.ErrNotFound):
		web.JSONError(w, http.StatusNotFound, "invite not found")
	default:
		f.serverError(w, r, "invite API", err)
	}
}
