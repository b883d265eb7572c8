package web

import (
	"errors"
)

// Role is an admin's (or an API key's) level of access. Roles are ordered: a route that needs
// RoleModerator also admits RoleAdmin.
type Role int

// Roles, lowest first. RoleNone is the anonymous visitor: no route that needs a role admits it.
const (
	// RoleNone is no role at all (anonymous).
	RoleNone Role = iota
	// RoleAuditor reads everything and changes nothing.
	RoleAuditor
	// RoleModerator manages users and invites, but not settings, admins or API keys.
	RoleModerator
	// RoleAdmin may do everything.
	RoleAdmin
)

// Role names as stored (storage.RoleAdmin etc.) and shown.
const (
	roleNameAuditor   = "auditor"
	roleNameModerator = "moderator"
	roleNameAdmin     = "admin"
)

// Roles lists the assignable roles, highest first (the order of a role picker).
func Roles() []Role { return []Role{RoleAdmin, RoleModerator, RoleAuditor} }

// ParseRole returns the role named s ("admin", "moderator", "auditor"); ok is false for
// anything else, RoleNone's "" included.
func ParseRole(s string) (r Role, ok bool) {
	switch s {
	case roleNameAuditor:
		return RoleAuditor, true
	case roleNameModerator:
		return RoleModerator, true
	case roleNameAdmin:
		return RoleAdmin, true
	}
	return RoleNone, false
}

// String returns the role's stored name ("" for RoleNone).
func (r Role) String() string {
	switch r {
	case RoleAuditor:
		return roleNameAuditor
	case RoleModerator:
		return roleNameModerator
	case RoleAdmin:
		return roleNameAdmin
	}
	return ""
}

// Title returns the role's name for display ("Admin").
func (r Role) Title() string {
	switch r {
	case RoleAuditor:
		return "Auditor"
	case RoleModerator:
		return "Moderator"
	case RoleAdmin:
		return "Admin"
	}
	return "None"
}

// Allows reports whether a principal with role r may use a route that needs min. RoleNone never
// passes, whatever min is.
func (r Role) Allows(min Role) bool {
	return r > RoleNone && r >= min
}

// MarshalText encodes the role as its name, so JSON shows "admin" rather than 3 (RoleNone is "").
func (r Role) MarshalText() ([]byte, error) {
	return []byte(r.String()), nil
}

// UnmarshalText decodes a role name.
func (r *Role) UnmarshalText(b []byte) error {
	v, ok := ParseRole(string(b))
	if !ok {
		return errors.New("unknown role: want admin, moderator or auditor")
	}
	*r = v
	return nil
}

// JSONSchema describes the role in the OpenAPI document.
func (Role) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "enum": []string{roleNameAdmin, roleNameModerator, roleNameAuditor}}
}
