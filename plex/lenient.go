package plex

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Plex is loose about types: v1 XML writes booleans as "1"/"0", some
// attributes as "true"/"false", v2 JSON uses true/false but sometimes 0/1,
// and numbers may arrive quoted. The types below accept all of these, both as
// JSON values and as XML attributes. Absent or null values decode to the zero
// value.

// flexBool is a boolean that accepts true/false/1/0 in any of the forms Plex
// uses ("1", "0", "true", "false", true, 1, null, "").
type flexBool bool

func parseFlexBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "", "null":
		return false, nil
	}
	// Some flags arrive as counts (allowTuners: 2); any non-zero integer is true.
	if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return n != 0, nil
	}
	return false, fmt.Errorf("not a boolean: %q", truncate(s, 20))
}

// UnmarshalJSON accepts a JSON boolean, number, string or null.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	s, err := jsonScalar(data)
	if err != nil {
		return err
	}
	v, err := parseFlexBool(s)
	if err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}

// UnmarshalXMLAttr accepts the attribute forms of a boolean.
func (b *flexBool) UnmarshalXMLAttr(attr xml.Attr) error {
	v, err := parseFlexBool(attr.Value)
	if err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}

// flexInt is an integer that may arrive as a JSON number, a quoted number,
// an integral float ("12.0") or null.
type flexInt int64

func parseFlexInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer: %q", truncate(s, 20))
	}
	return int64(f), nil
}

// UnmarshalJSON accepts a number, a string holding a number, or null.
func (n *flexInt) UnmarshalJSON(data []byte) error {
	s, err := jsonScalar(data)
	if err != nil {
		return err
	}
	v, err := parseFlexInt(s)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// UnmarshalXMLAttr parses an integer attribute.
func (n *flexInt) UnmarshalXMLAttr(attr xml.Attr) error {
	v, err := parseFlexInt(attr.Value)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// flexFloat is a float that may arrive quoted or null.
type flexFloat float64

func parseFlexFloat(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number: %q", truncate(s, 20))
	}
	return f, nil
}

// UnmarshalJSON accepts a number, a string holding a number, or null.
func (f *flexFloat) UnmarshalJSON(data []byte) error {
	s, err := jsonScalar(data)
	if err != nil {
		return err
	}
	v, err := parseFlexFloat(s)
	if err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}

// UnmarshalXMLAttr parses a float attribute.
func (f *flexFloat) UnmarshalXMLAttr(attr xml.Attr) error {
	v, err := parseFlexFloat(attr.Value)
	if err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}

// flexString is a string that may arrive as a JSON number or boolean (the
// v2 "libraries[].key" is a number in some answers and a string in others).
type flexString string

// UnmarshalJSON accepts a string, number, boolean or null.
func (s *flexString) UnmarshalJSON(data []byte) error {
	v, err := jsonScalar(data)
	if err != nil {
		return err
	}
	if v == "null" && bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		v = ""
	}
	*s = flexString(v)
	return nil
}

// flexTime is an instant that may arrive as Unix seconds (number or string)
// or as an RFC 3339 / ISO-8601 string. Zero and absent values stay the zero
// time.
type flexTime time.Time

// maxUnixSeconds is the last second of year 9999, the latest time JSON and
// RFC 3339 can hold.
const maxUnixSeconds = 253402300799

func parseFlexTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" || s == "0" {
		return time.Time{}, nil
	}
	if n, err := parseFlexInt(s); err == nil {
		if n <= 0 {
			return time.Time{}, nil
		}
		if n > maxUnixSeconds {
			// Past year 9999 a time cannot be written as JSON or RFC 3339,
			// so it could be read here but never stored or shown.
			return time.Time{}, fmt.Errorf("time out of range: %q", truncate(s, 40))
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
				// An offset can push year 0 or 9999 over the edge in UTC.
				return time.Time{}, fmt.Errorf("time out of range: %q", truncate(s, 40))
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", truncate(s, 40))
}

// UnmarshalJSON accepts Unix seconds or an ISO-8601 string.
func (t *flexTime) UnmarshalJSON(data []byte) error {
	s, err := jsonScalar(data)
	if err != nil {
		return err
	}
	v, err := parseFlexTime(s)
	if err != nil {
		return err
	}
	*t = flexTime(v)
	return nil
}

// UnmarshalXMLAttr accepts Unix seconds or an ISO-8601 string.
func (t *flexTime) UnmarshalXMLAttr(attr xml.Attr) error {
	v, err := parseFlexTime(attr.Value)
	if err != nil {
		return err
	}
	*t = flexTime(v)
	return nil
}

// Time returns the value as a time.Time.
func (t flexTime) Time() time.Time { return time.Time(t) }

// jsonScalar returns the text of a JSON scalar: the unquoted content of a
// string, or the literal of a number, boolean or null. Objects and arrays
// are refused.
func jsonScalar(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "", nil
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		return "", fmt.Errorf("expected a scalar, got %s", kindOfJSON(data[0]))
	default:
		return string(data), nil
	}
}

func kindOfJSON(c byte) string {
	if c == '{' {
		return "an object"
	}
	return "an array"
}

// oneOrMany decodes a JSON value that Plex sends either as a single object
// or as an array of objects (PMS JSON is inconsistent about Media, Part,
// Location and similar children).
type oneOrMany[T any] []T

// UnmarshalJSON accepts an object, an array of objects, or null.
func (m *oneOrMany[T]) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		*m = nil
		return nil
	}
	if data[0] == '[' {
		var list []T
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		*m = list
		return nil
	}
	var one T
	if err := json.Unmarshal(data, &one); err != nil {
		return err
	}
	*m = []T{one}
	return nil
}

// truncate shortens s to at most n bytes, followed by "…", for use in error
// messages. It cuts between characters, so valid UTF-8 stays valid.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n] + "…"
}
