package plextest

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// req describes one test request.
type req struct {
	method, path string
	token        string // X-Plex-Token header
	clientID     string // X-Plex-Client-Identifier; "-" = none
	json         bool   // Accept: application/json
	body         string
	header       map[string]string
}

const testClientID = "4f0c2a9e-7d61-4a7e-9c64-0b6f1c2d9a11"

type resp struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, f *Fake, q req) resp {
	t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, f.URL()+q.path, body)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if q.token != "" {
		r.Header.Set("X-Plex-Token", q.token)
	}
	switch q.clientID {
	case "-":
	case "":
		r.Header.Set("X-Plex-Client-Identifier", testClientID)
	default:
		r.Header.Set("X-Plex-Client-Identifier", q.clientID)
	}
	if q.json {
		r.Header.Set("Accept", "application/json")
	}
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	res, err := noRedirect.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func mustStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
}

func decodeJSON(t *testing.T, r resp, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decoding JSON %q: %v", r.body, err)
	}
}

// xmlElem is a generic XML tree for assertions.
type xmlElem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xmlElem  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (e xmlElem) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (e xmlElem) all(name string) []xmlElem {
	var out []xmlElem
	for _, k := range e.Kids {
		if k.XMLName.Local == name {
			out = append(out, k)
		}
	}
	return out
}

func decodeXML(t *testing.T, r resp) xmlElem {
	t.Helper()
	var e xmlElem
	if err := xml.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("decoding XML %q: %v", r.body, err)
	}
	return e
}

// newFake starts a fake with a quick PIN interval.
func newFake(t *testing.T, opts Options) *Fake {
	t.Helper()
	if opts.PINPollInterval == 0 {
		opts.PINPollInterval = 50 * time.Millisecond
	}
	return NewServer(t, opts)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
