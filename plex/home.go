package plex

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// CreateManagedUser adds a managed user to the owner's Plex Home
// (POST /api/v2/home/users/restricted?friendlyName=…&restrictionProfile=…).
// restrictionProfile may be empty or a Plex profile such as "little_kid".
// When plex.tv refuses the v2 route (410, 404 code 1002) and no profile was
// asked for, the legacy POST /api/home/users?title=… is used; with a
// profile the error is returned instead, because the legacy route would
// create the user without its restrictions. Share a server with the new
// user with ShareRequest.InviteeID.
func (c *Client) CreateManagedUser(ctx context.Context, token, name, restrictionProfile string) (HomeUser, error) {
	r := c.tvCall(http.MethodPost, "/api/v2/home/users/restricted", "/api/v2/home/users/restricted")
	name = strings.TrimSpace(name)
	if token == "" {
		return HomeUser{}, invalidArg(r.endpoint(), "no token given")
	}
	if name == "" {
		return HomeUser{}, invalidArg(r.endpoint(), "no name given")
	}
	if len(name) > 100 {
		return HomeUser{}, invalidArg(r.endpoint(), "the name is longer than 100 bytes")
	}
	q := url.Values{"friendlyName": {name}}
	if restrictionProfile != "" {
		q.Set("restrictionProfile", restrictionProfile)
	}
	r.token = token
	r.accept = acceptXML
	r.query = q.Encode()
	resp, err := c.do(ctx, r)
	if err != nil {
		if !fallsBack(err) || restrictionProfile != "" {
			return HomeUser{}, err
		}
		r = c.tvCall(http.MethodPost, "/api/home/users", "/api/home/users")
		r.token = token
		r.accept = acceptXML
		r.query = url.Values{"title": {name}}.Encode()
		if resp, err = c.do(ctx, r); err != nil {
			return HomeUser{}, err
		}
	}
	u, perr := parseHomeUser(resp.body)
	if perr != nil {
		return HomeUser{}, badBody(r, resp, perr)
	}
	return u, nil
}

// RemoveHomeUser removes a member from the owner's Plex Home
// (DELETE /api/v2/home/users/{id}; on 410 or 404 code 1002,
// DELETE /api/home/users/{id}). An unknown id is ErrNotFound.
func (c *Client) RemoveHomeUser(ctx context.Context, token string, userID int64) error {
	r := c.tvCall(http.MethodDelete, "/api/v2/home/users/{id}", "/api/v2/home/users/"+idSegment(userID))
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	if userID <= 0 {
		return invalidArg(r.endpoint(), "no user id given")
	}
	r.token = token
	r.accept = acceptJSON
	_, err := c.do(ctx, r)
	if err == nil || !fallsBack(err) {
		return err
	}
	v1 := c.tvCall(http.MethodDelete, "/api/home/users/{id}", "/api/home/users/"+idSegment(userID))
	v1.token = token
	v1.accept = acceptXML
	_, err = c.do(ctx, v1)
	return err
}
