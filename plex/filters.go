package plex

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Filters are a share's restriction filters in Plex's own syntax, one string
// per media type (docs/plex-api.md §4.9), for example
// "contentRating=G%2CPG|label!=adult". Empty strings mean no restriction.
// Build them with Filter.String and check them with Validate.
type Filters struct {
	// Movies is filterMovies.
	Movies string
	// Television is filterTelevision.
	Television string
	// Music is filterMusic (labels only).
	Music string
}

// IsZero reports whether no filter is set.
func (f Filters) IsZero() bool { return f == Filters{} }

// Validate parses each filter and checks that the music filter uses labels
// only (Plex supports no content rating for music).
func (f Filters) Validate() error {
	for _, x := range []struct{ name, s string }{{"movies", f.Movies}, {"television", f.Television}, {"music", f.Music}} {
		p, err := ParseFilter(x.s)
		if err != nil {
			return fmt.Errorf("%s filter: %w", x.name, err)
		}
		if x.name == "music" && (len(p.ContentRatings) > 0 || len(p.ExcludeContentRatings) > 0) {
			return fmt.Errorf("music filter: Plex filters music by label only, not by content rating")
		}
	}
	return nil
}

// Filter is one parsed restriction filter. A share may allow only the listed
// content ratings and labels, and exclude others.
type Filter struct {
	// ContentRatings allows only these ratings (contentRating=).
	ContentRatings []string
	// ExcludeContentRatings hides these ratings (contentRating!=).
	ExcludeContentRatings []string
	// Labels allows only items with these labels (label=).
	Labels []string
	// ExcludeLabels hides items with these labels (label!=).
	ExcludeLabels []string
}

// filter keys in the order String writes them.
const (
	keyContentRating        = "contentRating"
	keyExcludeContentRating = "contentRating!"
	keyLabel                = "label"
	keyExcludeLabel         = "label!"
)

// maxFilterValue bounds one rating or label.
const maxFilterValue = 100

// ParseFilter parses a filter string: clauses key=value[%2Cvalue…] joined by
// "|", keys contentRating, contentRating!, label and label!. Values may be
// separated by "%2C" or ",", and may be percent-encoded. The empty string is
// the empty filter.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, clause := range strings.Split(s, "|") {
		key, raw, ok := strings.Cut(clause, "=")
		if !ok {
			return Filter{}, fmt.Errorf("clause %q has no '='", truncate(clause, 40))
		}
		key = strings.TrimSpace(key)
		dst := f.slot(key)
		if dst == nil {
			return Filter{}, fmt.Errorf("unknown filter key %q (want contentRating, contentRating!, label or label!)", truncate(key, 40))
		}
		if seen[key] {
			return Filter{}, fmt.Errorf("filter key %q appears twice", key)
		}
		seen[key] = true
		for _, part := range splitFilterValues(raw) {
			v, err := url.PathUnescape(part)
			if err != nil {
				return Filter{}, fmt.Errorf("%s: bad percent-encoding in %q", key, truncate(part, 40))
			}
			v = strings.TrimSpace(v)
			if err := checkFilterValue(v); err != nil {
				return Filter{}, fmt.Errorf("%s: %w", key, err)
			}
			*dst = append(*dst, v)
		}
	}
	return f, nil
}

// splitFilterValues splits on "%2C" (any case) and ",". It scans bytes
// rather than upper-casing the string, whose length may change on invalid
// UTF-8.
func splitFilterValues(raw string) []string {
	var out []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == ',':
			out = append(out, raw[start:i])
			start = i + 1
		case raw[i] == '%' && i+2 < len(raw) && raw[i+1] == '2' && (raw[i+2] == 'C' || raw[i+2] == 'c'):
			out = append(out, raw[start:i])
			start = i + 3
			i += 2
		}
	}
	return append(out, raw[start:])
}

// slot returns the list a key fills, or nil for an unknown key.
func (f *Filter) slot(key string) *[]string {
	switch key {
	case keyContentRating:
		return &f.ContentRatings
	case keyExcludeContentRating:
		return &f.ExcludeContentRatings
	case keyLabel:
		return &f.Labels
	case keyExcludeLabel:
		return &f.ExcludeLabels
	}
	return nil
}

// checkFilterValue refuses values that the filter syntax cannot carry.
func checkFilterValue(v string) error {
	if v == "" {
		return fmt.Errorf("empty value")
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("value is not valid UTF-8")
	}
	if len(v) > maxFilterValue {
		return fmt.Errorf("value %q is longer than %d bytes", truncate(v, 40), maxFilterValue)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("value %q contains a control character", truncate(v, 40))
		}
	}
	if strings.ContainsAny(v, "|=,%") {
		return fmt.Errorf("value %q contains one of | = , %% which the filter syntax cannot carry", truncate(v, 40))
	}
	return nil
}

// Validate checks every value.
func (f Filter) Validate() error {
	for _, x := range []struct {
		key  string
		list []string
	}{{keyContentRating, f.ContentRatings}, {keyExcludeContentRating, f.ExcludeContentRatings}, {keyLabel, f.Labels}, {keyExcludeLabel, f.ExcludeLabels}} {
		for _, v := range x.list {
			if err := checkFilterValue(v); err != nil {
				return fmt.Errorf("%s: %w", x.key, err)
			}
		}
	}
	return nil
}

// IsZero reports whether the filter restricts nothing.
func (f Filter) IsZero() bool {
	return len(f.ContentRatings) == 0 && len(f.ExcludeContentRatings) == 0 && len(f.Labels) == 0 && len(f.ExcludeLabels) == 0
}

// String writes the filter in Plex's syntax, values joined by "%2C" as
// python-plexapi does: "contentRating=G%2CPG|label!=adult". Call Validate
// first; String does not escape values.
func (f Filter) String() string {
	var parts []string
	add := func(key string, list []string) {
		if len(list) > 0 {
			parts = append(parts, key+"="+strings.Join(list, "%2C"))
		}
	}
	add(keyContentRating, f.ContentRatings)
	add(keyExcludeContentRating, f.ExcludeContentRatings)
	add(keyLabel, f.Labels)
	add(keyExcludeLabel, f.ExcludeLabels)
	return strings.Join(parts, "|")
}
