package plextest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// inviteRequest is a share creation, from either API version.
type inviteRequest struct {
	machineID      string
	login          string // invitedEmail / invited_email: email or username
	invitedID      int64
	sectionIDs     []int64
	settings       map[string]json.RawMessage
	skipFriendship bool
}

// Sharing errors, mapped to each API version's answer by the handlers.
var (
	errUnknownServer = errors.New("unknown server")
	errUnknownUser   = errors.New("unknown user")
	errSelf          = errors.New("cannot share with yourself")
	errNoSections    = errors.New("no library sections")
)

// duplicateError says the user already has a share (or pending invite).
type duplicateError struct{ name string }

func (e *duplicateError) Error() string { return "already sharing with " + e.name }

// badSectionsError lists section ids that are not global ids of the server.
type badSectionsError struct{ ids []int64 }

func (e *badSectionsError) Error() string {
	parts := make([]string, len(e.ids))
	for i, id := range e.ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "invalid library section ids: " + strings.Join(parts, ", ")
}

// badSettingError names a settings value of the wrong type.
type badSettingError struct{ key string }

func (e *badSettingError) Error() string { return "invalid value for setting " + e.key }

// checkSectionsLocked returns the ids that are not global section ids of s.
//
// The real plex.tv has been reported to accept server keys (e.g. 1, 4, 8)
// here and then "share nothing, silently"; the fake chooses to be strict and
// refuses them so that the client bug shows in tests.
func checkSectionsLocked(s *serverState, ids []int64) error {
	var bad []int64
	for _, id := range ids {
		if !slices.ContainsFunc(s.Libraries, func(l Library) bool { return l.SectionID == id }) {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		return &badSectionsError{ids: bad}
	}
	return nil
}

// createShareLocked creates a share or pending invite. An empty section list
// means all libraries.
func (f *Fake) createShareLocked(req inviteRequest) (*Share, error) {
	s := f.serverLocked(req.machineID)
	if s == nil {
		return nil, errUnknownServer
	}
	if err := checkSectionsLocked(s, req.sectionIDs); err != nil {
		return nil, err
	}
	var acc *Account
	email := ""
	switch {
	case req.invitedID != 0:
		acc = f.accounts[req.invitedID]
		if acc == nil {
			return nil, errUnknownUser
		}
	case req.login != "":
		acc = f.accountByLoginLocked(req.login)
		if acc == nil {
			if !looksLikeEmail(req.login) {
				return nil, errUnknownUser
			}
			email = strings.TrimSpace(req.login)
		}
	default:
		return nil, errUnknownUser
	}
	if acc != nil && acc.ID == f.ownerID {
		return nil, errSelf
	}
	if acc != nil {
		email = acc.Email
		if dup := f.findShareLocked(s.MachineID, acc.ID, acc.Email); dup != nil {
			return nil, &duplicateError{name: displayName(acc, dup)}
		}
	} else if dup := f.findShareLocked(s.MachineID, 0, email); dup != nil {
		return nil, &duplicateError{name: email}
	}
	sh := &Share{
		MachineID:      s.MachineID,
		InvitedEmail:   email,
		SectionIDs:     slices.Clone(req.sectionIDs),
		AllLibraries:   len(req.sectionIDs) == 0,
		Pending:        true,
		SkipFriendship: req.skipFriendship,
		InvitedAt:      f.now().UTC().Truncate(1e9),
	}
	if err := applySettings(sh, req.settings); err != nil {
		return nil, err
	}
	if acc != nil {
		sh.UserID = acc.ID
		if acc.Managed || acc.Home {
			// Home members and managed users get access at once: a managed
			// user has no way to accept.
			sh.Pending = false
			sh.AcceptedAt = sh.InvitedAt
		}
	}
	if sh.AllLibraries {
		sh.SectionIDs = nil
	}
	sh.ID = f.newShareIDLocked()
	sh.AccessToken = fmt.Sprintf("share-token-%d", sh.ID)
	f.shares[sh.ID] = sh
	return sh, nil
}

// updateShareLocked sets the libraries (nil = unchanged, empty = all) and
// settings of a share.
func (f *Fake) updateShareLocked(sh *Share, sectionIDs []int64, setSections bool, settings map[string]json.RawMessage) error {
	s := f.serverLocked(sh.MachineID)
	if s == nil {
		return errUnknownServer
	}
	if setSections {
		if err := checkSectionsLocked(s, sectionIDs); err != nil {
			return err
		}
	}
	next := *sh
	if err := applySettings(&next, settings); err != nil {
		return err
	}
	if setSections {
		next.AllLibraries = len(sectionIDs) == 0
		next.SectionIDs = nil
		if !next.AllLibraries {
			next.SectionIDs = slices.Clone(sectionIDs)
		}
	}
	*sh = next
	return nil
}

// deleteShareLocked removes a share.
func (f *Fake) deleteShareLocked(id int64) bool {
	if f.shares[id] == nil {
		return false
	}
	delete(f.shares, id)
	return true
}

func displayName(acc *Account, sh *Share) string {
	switch {
	case acc != nil && acc.Username != "":
		return acc.Username
	case acc != nil && acc.Title != "":
		return acc.Title
	case sh != nil:
		return sh.InvitedEmail
	}
	return ""
}

func looksLikeEmail(s string) bool {
	at := strings.Index(s, "@")
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t<>") && strings.Contains(s[at:], ".")
}

// applySettings reads sharing settings leniently (bool, "0"/"1", 0/1,
// "true"/"false") and stores them as bools; filters are strings or null.
func applySettings(sh *Share, m map[string]json.RawMessage) error {
	bools := map[string]*bool{
		"allowSync": &sh.AllowSync, "allowCameraUpload": &sh.AllowCameraUpload,
		"allowChannels": &sh.AllowChannels, "allowSubtitleAdmin": &sh.AllowSubtitleAdmin,
		"allowTuners": &sh.AllowTuners,
	}
	filters := map[string]*string{
		"filterMovies": &sh.FilterMovies, "filterTelevision": &sh.FilterTelevision,
		"filterMusic": &sh.FilterMusic, "filterPhotos": &sh.FilterPhotos, "filterAll": &sh.FilterAll,
	}
	for k, raw := range m {
		if p, ok := bools[k]; ok {
			v, err := parseBoolish(raw)
			if err != nil {
				return &badSettingError{key: k}
			}
			*p = v
			continue
		}
		if p, ok := filters[k]; ok {
			v, err := parseFilter(raw)
			if err != nil {
				return &badSettingError{key: k}
			}
			*p = v
		}
	}
	return nil
}

func parseBoolish(raw json.RawMessage) (bool, error) {
	t := string(bytes.TrimSpace(raw))
	switch t {
	case "true", "1", `"1"`, `"true"`:
		return true, nil
	case "false", "0", `"0"`, `"false"`, "null", `""`:
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %s", t)
}

func parseFilter(raw json.RawMessage) (string, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("filter is not a string: %w", err)
	}
	return s, nil
}

// parseIDList reads a JSON array of ids given as numbers or numeric strings.
func parseIDList(raw json.RawMessage) ([]int64, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("section ids are not an array: %w", err)
	}
	out := make([]int64, 0, len(items))
	for _, it := range items {
		id, err := parseID(it)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// parseID reads one id given as a number or a numeric string.
func parseID(raw json.RawMessage) (int64, error) {
	t := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	id, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("id %s: %w", raw, err)
	}
	return id, nil
}
