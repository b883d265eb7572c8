package plextest

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxHistoryPage is the most items the fake's PMS returns in one page.
const maxHistoryPage = 200

// filterTerm is one raw query term: name, operator and unescaped value.
type filterTerm struct {
	name, op, value string
}

// parseRawQuery splits a raw query into terms. PMS filters put the operator
// in the key, unescaped (viewedAt>=1700000000), which url.ParseQuery would
// misread, so the fake parses r.URL.RawQuery itself. A percent sign in a key
// (viewedAt%3E%3D…, what url.Values produces) is an error: the fake refuses
// it so that the client bug shows.
func parseRawQuery(raw string) ([]filterTerm, error) {
	var out []filterTerm
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		i := strings.IndexAny(part, "<>!=")
		if i < 0 {
			if strings.Contains(part, "%") {
				return nil, fmt.Errorf("query term %q has a percent-encoded key or operator", part)
			}
			out = append(out, filterTerm{name: part})
			continue
		}
		name := part[:i]
		j := i
		for j < len(part) && strings.IndexByte("<>!=", part[j]) >= 0 {
			j++
		}
		if strings.Contains(name, "%") && !strings.HasPrefix(name, "X-Plex") {
			return nil, fmt.Errorf("query key %q is percent-encoded", name)
		}
		value, err := url.QueryUnescape(part[j:])
		if err != nil {
			return nil, fmt.Errorf("query value of %q: %w", name, err)
		}
		out = append(out, filterTerm{name: name, op: part[i:j], value: value})
	}
	return out, nil
}

// timeFilter compares viewedAt with a term. ">" and ">>=" are strict,
// ">=" inclusive; "<" and "<<=" strict, "<=" inclusive. (python-plexapi's
// key "viewedAt>" followed by "=" arrives as ">="; whether the real PMS
// treats that boundary second as included is UNCONFIRMED.)
func timeFilter(op string, limit int64) (func(int64) bool, bool) {
	switch op {
	case "=":
		return func(v int64) bool { return v == limit }, true
	case ">", ">>=":
		return func(v int64) bool { return v > limit }, true
	case ">=":
		return func(v int64) bool { return v >= limit }, true
	case "<", "<<=":
		return func(v int64) bool { return v < limit }, true
	case "<=":
		return func(v int64) bool { return v <= limit }, true
	}
	return nil, false
}

func badRequest(w http.ResponseWriter, msg string) {
	http.Error(w, "Bad Request: "+msg, http.StatusBadRequest)
}

// containerParam reads X-Plex-Container-Start/Size from the header or query.
func containerParam(r *http.Request, name string) (int, bool, error) {
	v := plexParam(r, name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s=%q is not a count", name, v)
	}
	return n, true, nil
}

func (f *Fake) handleHistory(w http.ResponseWriter, r *http.Request) {
	terms, err := parseRawQuery(r.URL.RawQuery)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	start, _, err := containerParam(r, "X-Plex-Container-Start")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	size, sizeGiven, err := containerParam(r, "X-Plex-Container-Size")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	if !sizeGiven || size > maxHistoryPage {
		size = maxHistoryPage
	}
	var keep []func(HistoryItem) bool
	desc, sorted := false, false
	for _, t := range terms {
		switch t.name {
		case "accountID", "librarySectionID", "metadataItemID":
			if t.op != "=" {
				badRequest(w, "unsupported operator for "+t.name)
				return
			}
			v := t.value
			switch t.name {
			case "accountID":
				keep = append(keep, func(h HistoryItem) bool { return strconv.FormatInt(h.AccountID, 10) == v })
			case "librarySectionID":
				keep = append(keep, func(h HistoryItem) bool { return h.LibraryKey == v })
			default:
				keep = append(keep, func(h HistoryItem) bool { return h.RatingKey == v })
			}
		case "viewedAt":
			limit, err := strconv.ParseInt(t.value, 10, 64)
			if err != nil {
				badRequest(w, "viewedAt needs Unix seconds")
				return
			}
			cmp, ok := timeFilter(t.op, limit)
			if !ok {
				badRequest(w, "unsupported operator "+t.op)
				return
			}
			keep = append(keep, func(h HistoryItem) bool { return cmp(h.ViewedAt.Unix()) })
		case "sort":
			switch t.value {
			case "viewedAt:desc":
				desc, sorted = true, true
			case "viewedAt", "viewedAt:asc":
				sorted = true
			default:
				badRequest(w, "unsupported sort "+t.value)
				return
			}
		}
	}

	s, c, ok := f.pmsBegin(w, r, false)
	if !ok {
		return
	}
	var items []HistoryItem
	for _, h := range s.history {
		if !c.admin && h.AccountID != c.accountID {
			continue // other tokens see only their own history
		}
		match := true
		for _, k := range keep {
			match = match && k(h)
		}
		if match {
			items = append(items, h)
		}
	}
	if sorted {
		slices.SortStableFunc(items, func(x, y HistoryItem) int {
			d := x.ViewedAt.Compare(y.ViewedAt)
			if d == 0 {
				d = cmpInt(x.ID, y.ID)
			}
			if desc {
				return -d
			}
			return d
		})
	}
	total := len(items)
	page := items[min(start, total):min(start+size, total)]
	root := el("MediaContainer", a("size", len(page)), a("totalSize", total), a("offset", start))
	for _, h := range page {
		root.add(historyNode(h))
	}
	f.mu.Unlock()
	w.Header().Set("X-Plex-Container-Start", strconv.Itoa(start))
	w.Header().Set("X-Plex-Container-Total-Size", strconv.Itoa(total))
	writePMS(w, r, http.StatusOK, root)
}

func historyNode(h HistoryItem) *node {
	n := el(itemElement(h.Type), a("historyKey", fmt.Sprintf("/status/sessions/history/%d", h.ID)),
		a("key", "/library/metadata/"+h.RatingKey), a("ratingKey", h.RatingKey), a("librarySectionID", h.LibraryKey),
		a("title", h.Title))
	if h.GrandparentTitle != "" {
		n.attrs = append(n.attrs, a("grandparentTitle", h.GrandparentTitle))
	}
	n.attrs = append(n.attrs, a("type", h.Type),
		a("thumb", fmt.Sprintf("/library/metadata/%s/thumb/%d", h.RatingKey, h.ViewedAt.Unix())),
		a("viewedAt", h.ViewedAt.Unix()), a("accountID", h.AccountID), a("deviceID", h.DeviceID))
	n.jsonKey = "Metadata"
	return n
}

// handleImage serves /library/metadata/{ratingKey}/thumb/{ts} and /art/{ts}:
// a small PNG whose colour depends on the rating key.
func (f *Fake) handleImage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := f.pmsBegin(w, r, false); !ok {
		return
	}
	f.mu.Unlock()
	h := fnv.New32a()
	_, _ = h.Write([]byte(r.PathValue("ratingKey")))
	sum := h.Sum32()
	fill := color.RGBA{R: uint8(sum), G: uint8(sum >> 8), B: uint8(sum >> 16), A: 255}
	img := image.NewRGBA(image.Rect(0, 0, 16, 24))
	for y := 0; y < 24; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, fill)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		http.Error(w, "encoding image: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Header().Set("Last-Modified", time.Unix(1700000000, 0).UTC().Format(http.TimeFormat))
	_, _ = w.Write(buf.Bytes())
}
