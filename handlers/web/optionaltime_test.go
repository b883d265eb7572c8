package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// whenInput is a field type built on OptionalTime the way features build theirs.
type whenInput struct{ OptionalTime }

func (o *whenInput) UnmarshalJSON(b []byte) error { return o.Decode("when", b) }

// whenBody is a PATCH-like body with one optional time.
type whenBody struct {
	When whenInput `json:"when,omitzero"`
}

func TestOptionalTimeDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		set     bool
		want    string // RFC 3339 of the decoded time, "" for nil
		wantErr string // part of the InputError's message, "" for none
	}{
		{name: "absent", body: `{}`},
		{name: "null clears", body: `{"when":null}`, set: true},
		{name: "null with spaces", body: `{"when": null }`, set: true},
		{name: "UTC time", body: `{"when":"2026-05-01T12:00:00Z"}`, set: true, want: "2026-05-01T12:00:00Z"},
		{name: "offset becomes UTC", body: `{"when":"2026-05-01T14:30:00+02:00"}`, set: true, want: "2026-05-01T12:30:00Z"},
		{name: "fraction of a second", body: `{"when":"2026-05-01T12:00:00.5Z"}`, set: true, want: "2026-05-01T12:00:00.5Z"},
		{name: "escaped string", body: `{"when":"2026-05-01T12:00:00\u005a"}`, set: true, want: "2026-05-01T12:00:00Z"},
		{name: "not a date", body: `{"when":"SECRETVALUE"}`, set: true, wantErr: "such as 2025-06-01T12:00:00Z, or null"},
		{name: "date alone", body: `{"when":"2026-05-01"}`, set: true, wantErr: "such as"},
		{name: "empty string", body: `{"when":""}`, set: true, wantErr: "such as"},
		{name: "number", body: `{"when":1714564800}`, set: true, wantErr: "want an RFC 3339 date-time or null"},
		{name: "object", body: `{"when":{"t":"2026-05-01T12:00:00Z"}}`, set: true, wantErr: "date-time or null"},
		{name: "boolean", body: `{"when":true}`, set: true, wantErr: "date-time or null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in whenBody
			err := json.Unmarshal([]byte(tt.body), &in)
			if tt.wantErr != "" {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != "when" || !strings.Contains(ie.Message, tt.wantErr) {
					t.Fatalf("error %v, want an InputError on when containing %q", err, tt.wantErr)
				}
				if strings.Contains(ie.Error(), "SECRET") {
					t.Errorf("the error repeats the value: %v", ie)
				}
				return
			}
			if err != nil {
				t.Fatalf("decoding %s: %v", tt.body, err)
			}
			if in.When.Set != tt.set {
				t.Errorf("Set = %v, want %v", in.When.Set, tt.set)
			}
			switch {
			case tt.want == "" && in.When.Time != nil:
				t.Errorf("Time = %v, want nil", *in.When.Time)
			case tt.want != "" && in.When.Time == nil:
				t.Errorf("Time = nil, want %s", tt.want)
			case tt.want != "":
				if got := in.When.Time.Format(time.RFC3339Nano); got != tt.want || in.When.Time.Location() != time.UTC {
					t.Errorf("Time = %s in %v, want %s in UTC", got, in.When.Time.Location(), tt.want)
				}
			}
		})
	}
}

func TestOptionalTimeMarshal(t *testing.T) {
	at := time.Date(2026, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name string
		in   whenBody
		want string
	}{
		{name: "absent is left out", in: whenBody{}, want: `{}`},
		{name: "null", in: whenBody{When: whenInput{OptionalTime{Set: true}}}, want: `{"when":null}`},
		{name: "time in UTC", in: whenBody{When: whenInput{OptionalTime{Set: true, Time: &at}}}, want: `{"when":"2026-05-01T12:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestOptionalTimeSchema(t *testing.T) {
	got := newSchemaBuilder().schema(reflect.TypeFor[whenInput]())
	if typ, ok := got["type"].([]string); !ok || len(typ) != 2 || typ[0] != "string" || typ[1] != "null" || got["format"] != "date-time" {
		t.Errorf("schema of a field type embedding OptionalTime: %v, want a nullable date-time string", got)
	}
}

func TestOptionalTimeBadValueThroughDecodeJSON(t *testing.T) {
	m := newTestMux(t, Options{Auth: &testAuth{}}, func(m *Mux) {
		m.API("PATCH", "/when", RoleAuditor, func(w http.ResponseWriter, r *http.Request) {
			var in whenBody
			if !DecodeJSON(w, r, &in) {
				return
			}
			JSON(w, http.StatusOK, in)
		}, APIDoc{Summary: "when", Request: whenBody{}, Response: whenBody{}})
	})
	headers := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer auditor"}
	rec := do(m, "PATCH", "/api/v1/when", headers, strings.NewReader(`{"when":"SECRETVALUE"}`))
	var e ErrorBody
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "when" || strings.Contains(rec.Body.String(), "SECRET") {
		t.Errorf("bad value: %d %s, want 400 naming when without the value", rec.Code, rec.Body.String())
	}
	rec = do(m, "PATCH", "/api/v1/when", headers, strings.NewReader(`{"when":"2026-05-01T12:00:00Z"}`))
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"when":"2026-05-01T12:00:00Z"}` {
		t.Errorf("good value: %d %s, want 200 echoing the time", rec.Code, rec.Body.String())
	}
}
