package web

import (
	"bytes"
	"encoding/json"
	"time"
)

// OptionalTime is a JSON date-time field of a PATCH-like body that tells absent (Set false), null
// (Set, Time nil: clear it) and a value apart. A feature embeds it in a type per field whose
// UnmarshalJSON calls Decode with the field's name, so that a bad value names its field:
//
//	type ExpiresAtInput struct{ web.OptionalTime }
//
//	func (o *ExpiresAtInput) UnmarshalJSON(b []byte) error { return o.Decode("expires_at", b) }
//
// and tags it `json:"expires_at,omitzero"`.
type OptionalTime struct {
	// Set is true when the field was present (null included).
	Set bool
	// Time is the value in UTC, nil for null.
	Time *time.Time
}

// IsZero reports whether the field was absent (for omitzero).
func (o OptionalTime) IsZero() bool { return !o.Set }

// Decode reads b, the JSON value of field: null, or a string holding an RFC 3339 date-time. Any
// other value is an *InputError on field that does not repeat the value.
func (o *OptionalTime) Decode(field string, b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Time = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return NewInputError(field, "want an RFC 3339 date-time or null")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return NewInputError(field, "want an RFC 3339 date-time such as 2025-06-01T12:00:00Z, or null")
	}
	t = t.UTC()
	o.Time = &t
	return nil
}

// MarshalJSON writes the time or null.
func (o OptionalTime) MarshalJSON() ([]byte, error) {
	if o.Time == nil {
		return []byte("null"), nil
	}
	return json.Marshal(o.Time.UTC())
}

// JSONSchema describes the field in the OpenAPI document.
func (OptionalTime) JSONSchema() map[string]any {
	return map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
}
