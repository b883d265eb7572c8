package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

// Restriction profiles of managed users ("" is none).
var restrictionProfiles = []string{"", "little_kid", "older_kid", "teen"}

// maxManagedName bounds a managed user's name (plex.tv's own limit is not documented).
const maxManagedName = 100

// HomeMembers lists the members of the owner's Plex Home (the owner first, as Plex lists them).
func (s *Service) HomeMembers(ctx context.Context) ([]HomeMember, error) {
	list, err := s.gw.HomeUsers(ctx)
	if err = s.observe(err); err != nil {
		return nil, fmt.Errorf("reading the Plex Home: %w", err)
	}
	out := make([]HomeMember, 0, len(list))
	for _, hu := range list {
		out = append(out, HomeMember{ID: hu.ID, Title: hu.Title, Username: hu.Username, Email: hu.Email, Thumb: hu.Thumb,
			Admin: hu.Admin, Guest: hu.Guest, Managed: hu.Managed, RestrictionProfile: hu.RestrictionProfile, Protected: hu.Protected})
	}
	return out, nil
}

// CreateManagedUser creates a managed Home user with a restriction profile and shares the libraries
// with them. The creation is an intent like every Plex change: after a crash it is finished by taking
// the managed user of that name that Plex has and the store does not, never by creating a second one.
func (s *Service) CreateManagedUser(ctx context.Context, actor string, req ManagedUserRequest) (storage.User, error) {
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "":
		return storage.User{}, fieldError("name", "give the managed user a name")
	case len(name) > maxManagedName:
		return storage.User{}, fieldError("name", "must be at most %d bytes", maxManagedName)
	case !slices.Contains(restrictionProfiles, req.RestrictionProfile):
		return storage.User{}, fieldError("restriction_profile", "must be one of little_kid, older_kid, teen or empty")
	}
	if err := validateFilters(req.Filters); err != nil {
		return storage.User{}, err
	}
	if err := s.lockCtx(ctx); err != nil {
		return storage.User{}, err
	}
	defer s.lock.Unlock()
	servers, err := s.serverMap()
	if err != nil {
		return storage.User{}, err
	}
	// Validate the libraries before anything is created.
	probe := storage.User{ID: 1, Kind: storage.KindManaged, Status: storage.StatusActive}
	next, _, err := applyPatch(probe, UserPatch{Libraries: req.Libraries}, servers)
	if err != nil {
		return storage.User{}, err
	}
	o := op{Kind: "create_managed", Actor: actor, Reason: "managed user created",
		Steps: []step{{Call: callCreateManaged, Name: name, Profile: req.RestrictionProfile}},
		Final: final{Event: EventManagedCreated, Message: fmt.Sprintf("Managed user %s created", name),
			Data: map[string]any{"restriction_profile": req.RestrictionProfile}}}
	id, err := s.runOpUser(ctx, o, nil)
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.getUser(id)
	if err != nil {
		return storage.User{}, err
	}
	if len(next.Shares) == 0 {
		return u, nil
	}
	want := u.Clone()
	want.Shares = map[string]storage.Share{}
	for srv, sh := range next.Shares {
		sh.AllowDownloads, sh.Filters = req.AllowDownloads, req.Filters
		want.Shares[srv] = sh
	}
	if err := s.transitionUser(ctx, actor, u, want, servers, ActionShare, EventUserShared,
		fmt.Sprintf("Libraries shared with managed user %s", name), "managed user created", nil); err != nil {
		return storage.User{}, err
	}
	return s.getUser(u.ID)
}

// createManaged is the callCreateManaged step: a managed user of that name that Plex has and the
// store does not is taken (a retry after a crash); otherwise one is created.
func (s *Service) createManaged(ctx context.Context, st *step) (stepResult, error) {
	list, err := s.gw.HomeUsers(ctx)
	if err = s.observe(err); err != nil {
		return stepResult{}, err
	}
	for _, hu := range list {
		if !hu.Managed || hu.Title != st.Name {
			continue
		}
		if _, err := s.store.GetUser(hu.ID); err != nil {
			return stepResult{UserID: hu.ID}, nil
		}
	}
	hu, err := s.gw.CreateManagedUser(ctx, st.Name, st.Profile)
	if err = s.observe(err); err != nil {
		return stepResult{}, err
	}
	if hu.ID <= 0 {
		return stepResult{}, fmt.Errorf("plex created the managed user without telling its id")
	}
	return stepResult{UserID: hu.ID}, nil
}

// RemoveManagedUser removes a managed user (or any Home member) from the Home: their shares first,
// then the membership; recorded as home.member_removed.
func (s *Service) RemoveManagedUser(ctx context.Context, actor string, userID int64) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	u, err := s.getUser(userID)
	if err != nil {
		return err
	}
	if u.Kind != storage.KindManaged && u.Kind != storage.KindHome {
		return fieldError("user", "user %d is not a Home member or managed user", userID)
	}
	return s.removeUserLocked(ctx, actor, userID, "removed from the Plex Home", ActionRemoveUser, EventHomeRemoved)
}
