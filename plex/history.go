package plex

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HistoryQuery selects watch history.
type HistoryQuery struct {
	// AccountID is the server account id (1 = owner; others: plex.tv id).
	// 0 means every account (the system account 0 cannot be selected).
	AccountID int64
	// Since (inclusive) and Until (exclusive) bound viewedAt; zero means
	// unbounded.
	Since time.Time
	// Until is the exclusive upper bound of viewedAt.
	Until time.Time
	// LibraryKey is the server's library key; empty means every library.
	LibraryKey string
	// PageSize is the number of items per request (default 100, at most
	// 1000).
	PageSize int
	// Limit stops after this many items; 0 reads everything.
	Limit int
}

// HistoryItem is one play in the history, newest first.
type HistoryItem struct {
	// HistoryKey is the entry's path (/status/sessions/history/<id>).
	HistoryKey string
	// RatingKey and Key identify the item on the server.
	RatingKey string
	Key       string
	// LibraryKey is the server's library key.
	LibraryKey string
	// Title, GrandparentTitle (the show) and ParentTitle (the season)
	// name the item.
	Title            string
	GrandparentTitle string
	ParentTitle      string
	// Type is movie, episode, track...
	Type string
	// Thumb is the artwork path (see Server.Thumb).
	Thumb string
	// Index and ParentIndex are the episode and season numbers.
	Index       int
	ParentIndex int
	// ViewedAt is when it was watched.
	ViewedAt time.Time
	// AccountID is the server account id (1 = owner).
	AccountID int64
	// DeviceID is the PMS device id of the player.
	DeviceID int64
}

type historyContainer struct {
	Size      flexInt                `json:"size" xml:"size,attr"`
	TotalSize flexInt                `json:"totalSize" xml:"totalSize,attr"`
	Offset    flexInt                `json:"offset" xml:"offset,attr"`
	Metadata  oneOrMany[historyItem] `json:"Metadata" xml:"-"`
	Items     []historyItem          `json:"-" xml:",any"`
}

type historyItem struct {
	HistoryKey       string     `json:"historyKey" xml:"historyKey,attr"`
	RatingKey        flexString `json:"ratingKey" xml:"ratingKey,attr"`
	Key              string     `json:"key" xml:"key,attr"`
	LibrarySectionID flexString `json:"librarySectionID" xml:"librarySectionID,attr"`
	Title            string     `json:"title" xml:"title,attr"`
	GrandparentTitle string     `json:"grandparentTitle" xml:"grandparentTitle,attr"`
	ParentTitle      string     `json:"parentTitle" xml:"parentTitle,attr"`
	Type             string     `json:"type" xml:"type,attr"`
	Thumb            string     `json:"thumb" xml:"thumb,attr"`
	Index            flexInt    `json:"index" xml:"index,attr"`
	ParentIndex      flexInt    `json:"parentIndex" xml:"parentIndex,attr"`
	ViewedAt         flexTime   `json:"viewedAt" xml:"viewedAt,attr"`
	AccountID        flexInt    `json:"accountID" xml:"accountID,attr"`
	DeviceID         flexInt    `json:"deviceID" xml:"deviceID,attr"`
}

// historyPage is one decoded page.
type historyPage struct {
	items []HistoryItem
	total int // -1 when the server did not say
}

// parseHistory decodes one page of GET /status/sessions/history/all.
func parseHistory(body []byte, header http.Header) (historyPage, error) {
	var c historyContainer
	if err := decodeContainer(body, &c); err != nil {
		return historyPage{}, err
	}
	all := append([]historyItem(c.Metadata), c.Items...)
	p := historyPage{items: make([]HistoryItem, 0, len(all)), total: -1}
	for _, h := range all {
		p.items = append(p.items, HistoryItem{
			HistoryKey: h.HistoryKey, RatingKey: string(h.RatingKey), Key: h.Key, LibraryKey: string(h.LibrarySectionID),
			Title: h.Title, GrandparentTitle: h.GrandparentTitle, ParentTitle: h.ParentTitle, Type: h.Type, Thumb: h.Thumb,
			Index: int(h.Index), ParentIndex: int(h.ParentIndex), ViewedAt: h.ViewedAt.Time(),
			AccountID: int64(h.AccountID), DeviceID: int64(h.DeviceID),
		})
	}
	switch {
	case c.TotalSize > 0:
		p.total = int(c.TotalSize)
	case header != nil && header.Get("X-Plex-Container-Total-Size") != "":
		if n, err := strconv.Atoi(header.Get("X-Plex-Container-Total-Size")); err == nil && n >= 0 {
			p.total = n
		}
	case c.TotalSize == 0 && len(all) == 0:
		p.total = 0
	}
	return p, nil
}

// historyQueryString writes the filter by hand: PMS wants the comparison in
// the key unescaped ("viewedAt>=1700000000"), which url.Values would encode
// as "viewedAt%3E%3D". Only values are escaped.
func historyQueryString(q HistoryQuery) string {
	parts := []string{}
	if q.AccountID != 0 {
		parts = append(parts, "accountID="+strconv.FormatInt(q.AccountID, 10))
	}
	if q.LibraryKey != "" {
		parts = append(parts, "librarySectionID="+url.QueryEscape(q.LibraryKey))
	}
	parts = append(parts, "sort="+url.QueryEscape("viewedAt:desc"))
	if !q.Since.IsZero() {
		parts = append(parts, "viewedAt>="+strconv.FormatInt(q.Since.Unix(), 10))
	}
	if !q.Until.IsZero() {
		parts = append(parts, "viewedAt<"+strconv.FormatInt(q.Until.Unix(), 10))
	}
	return strings.Join(parts, "&")
}

// maxHistoryPages bounds the paging loop against a server that ignores
// paging.
const maxHistoryPages = 10000

// History reads the watch history (GET {pms}/status/sessions/history/all),
// newest first, paging with X-Plex-Container-Start/Size until totalSize is
// reached (or a short page when the server gives no total).
func (s *Server) History(ctx context.Context, q HistoryQuery) ([]HistoryItem, error) {
	const route = "/status/sessions/history/all"
	if _, err := s.call(http.MethodGet, route, route, true); err != nil {
		return nil, err
	}
	size := q.PageSize
	switch {
	case size <= 0:
		size = 100
	case size > 1000:
		size = 1000
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, invalidArg("GET {pms}"+route, "Until must be after Since")
	}
	filter := historyQueryString(q)
	var out []HistoryItem
	for start, page := 0, 0; page < maxHistoryPages; page++ {
		r, _ := s.call(http.MethodGet, route, route, true)
		r.query = filter + "&X-Plex-Container-Start=" + strconv.Itoa(start) + "&X-Plex-Container-Size=" + strconv.Itoa(size)
		r.header = http.Header{
			"X-Plex-Container-Start": {strconv.Itoa(start)},
			"X-Plex-Container-Size":  {strconv.Itoa(size)},
		}
		resp, err := s.get(ctx, r)
		if err != nil {
			return nil, err
		}
		p, perr := parseHistory(resp.body, resp.header)
		if perr != nil {
			return nil, badBody(r, resp, perr)
		}
		out = append(out, p.items...)
		if q.Limit > 0 && len(out) >= q.Limit {
			return out[:q.Limit], nil
		}
		start += len(p.items)
		switch {
		case len(p.items) == 0:
			return out, nil
		case len(p.items) > size:
			return out, nil // the server ignored paging and sent everything
		case p.total >= 0 && start >= p.total:
			return out, nil
		case p.total < 0 && len(p.items) < size:
			return out, nil
		}
	}
	return out, nil
}
