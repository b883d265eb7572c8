package plex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Section is one library of a server as plex.tv knows it. plex.tv's sharing
// routes name libraries by the global ID; the server itself names them by
// Key (docs/plex-api.md quirk 1). Never mix the two.
type Section struct {
	// ID is plex.tv's global section id (what sharing wants).
	ID int64
	// Key is the server's own library key (PMS /library/sections
	// Directory@key).
	Key string
	// Title is the library's name.
	Title string
	// Type is movie, show, artist or photo.
	Type string
}

// SectionList is a server's sections with lookups between keys and ids.
type SectionList []Section

// IDs maps server library keys to plex.tv section ids, in the order given
// and without duplicates. An unknown key is an ErrInvalidArgument error that
// names it.
func (l SectionList) IDs(keys ...string) ([]int64, error) {
	out := make([]int64, 0, len(keys))
	seen := make(map[int64]bool, len(keys))
	for _, k := range keys {
		s, ok := l.byKey(k)
		if !ok {
			return nil, &Error{Kind: ErrInvalidArgument, Message: fmt.Sprintf("unknown library key %q on this server", truncate(k, 40))}
		}
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s.ID)
		}
	}
	return out, nil
}

// Keys maps plex.tv section ids to server library keys, in the order given
// and without duplicates. An unknown id is an ErrInvalidArgument error that
// names it.
func (l SectionList) Keys(ids ...int64) ([]string, error) {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		s, ok := l.byID(id)
		if !ok {
			return nil, &Error{Kind: ErrInvalidArgument, Message: fmt.Sprintf("unknown plex.tv section id %d on this server", id)}
		}
		if !seen[s.Key] {
			seen[s.Key] = true
			out = append(out, s.Key)
		}
	}
	return out, nil
}

func (l SectionList) byKey(key string) (Section, bool) {
	for _, s := range l {
		if s.Key == key {
			return s, true
		}
	}
	return Section{}, false
}

func (l SectionList) byID(id int64) (Section, bool) {
	for _, s := range l {
		if s.ID == id {
			return s, true
		}
	}
	return Section{}, false
}

// serverXML is a plex.tv Server element (v1 /api/servers and
// /api/servers/{machineId}).
type serverXML struct {
	Name              string       `xml:"name,attr"`
	MachineIdentifier string       `xml:"machineIdentifier,attr"`
	Version           string       `xml:"version,attr"`
	Owned             flexBool     `xml:"owned,attr"`
	Sections          []sectionXML `xml:"Section"`
}

type sectionXML struct {
	ID     flexInt  `xml:"id,attr"`
	Key    string   `xml:"key,attr"`
	Title  string   `xml:"title,attr"`
	Type   string   `xml:"type,attr"`
	Shared flexBool `xml:"shared,attr"`
}

type serversXML struct {
	Servers []serverXML `xml:"Server"`
}

// parseSections decodes /api/servers/{machineId} and returns the sections of
// the Server element whose machineIdentifier matches (the container's own
// machineIdentifier is plex.tv's, not the server's).
func parseSections(body []byte, machineID string) (SectionList, error) {
	var doc serversXML
	if err := decodeXML(body, &doc); err != nil {
		return nil, err
	}
	for _, s := range doc.Servers {
		if s.MachineIdentifier != machineID {
			continue
		}
		out := make(SectionList, 0, len(s.Sections))
		for _, sx := range s.Sections {
			if sx.ID <= 0 || strings.TrimSpace(sx.Key) == "" {
				return nil, errors.New("section without id or key")
			}
			// IDs and Keys translate one into the other: a repeated id or key
			// would map a library to another one's id (sharing the wrong
			// library), so such a list is refused.
			if _, dup := out.byID(int64(sx.ID)); dup {
				return nil, fmt.Errorf("section id %d listed twice", int64(sx.ID))
			}
			if _, dup := out.byKey(sx.Key); dup {
				return nil, fmt.Errorf("library key %q listed twice", truncate(sx.Key, 40))
			}
			out = append(out, Section{ID: int64(sx.ID), Key: sx.Key, Title: sx.Title, Type: sx.Type})
		}
		return out, nil
	}
	return nil, errServerMissing
}

const errServerMissing = decodeError("the answer does not describe this server")

// Sections returns the server's libraries with plex.tv's global section ids
// (GET /api/servers/{machineId}, XML). An unknown machine id is ErrNotFound.
func (c *Client) Sections(ctx context.Context, token, machineID string) (SectionList, error) {
	const route = "/api/servers/{machineId}"
	r := c.tvCall(http.MethodGet, route, "/api/servers/"+pathEscape(machineID))
	if err := checkArgs(r, token, machineID); err != nil {
		return nil, err
	}
	r.accept = acceptXML
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	out, perr := parseSections(resp.body, machineID)
	if errors.Is(perr, errServerMissing) {
		return nil, &Error{Kind: ErrNotFound, Status: resp.status, Endpoint: r.endpoint(), Message: "plex.tv does not list this server for the account"}
	}
	if perr != nil {
		return nil, badBody(r, resp, perr)
	}
	return out, nil
}

// checkArgs sets the token on r and refuses an empty token or machine id.
func checkArgs(r *call, token, machineID string) error {
	if token == "" {
		return invalidArg(r.endpoint(), "no token given")
	}
	if strings.TrimSpace(machineID) == "" {
		return invalidArg(r.endpoint(), "no server machine id given")
	}
	r.token = token
	return nil
}
