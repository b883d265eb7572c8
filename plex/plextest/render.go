package plextest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// node is one element of a document that renders as XML or, in the PMS
// style, as JSON ({"MediaContainer":{"attr":…,"Metadata":[…]}}).
type node struct {
	name  string
	attrs []attr
	kids  []*node
	text  string
	// jsonKey is the key under the parent in JSON (default name);
	// jsonOne renders the child as an object instead of an array element.
	jsonKey string
	jsonOne bool
}

// attr is an attribute. Values: string, bool, int, int64, float64 or nil.
type attr struct {
	k string
	v any
}

func el(name string, attrs ...attr) *node { return &node{name: name, attrs: attrs} }

func a(k string, v any) attr { return attr{k, v} }

func (n *node) add(kids ...*node) *node {
	n.kids = append(n.kids, kids...)
	return n
}

// xmlDoc renders n with the XML declaration.
func (n *node) xmlDoc() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	n.writeXML(&b, 0)
	return b.Bytes()
}

func (n *node) writeXML(b *bytes.Buffer, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteByte('<')
	b.WriteString(n.name)
	for _, at := range n.attrs {
		b.WriteByte(' ')
		b.WriteString(at.k)
		b.WriteString(`="`)
		xmlEscape(b, xmlValue(at.v))
		b.WriteByte('"')
	}
	switch {
	case n.text != "":
		b.WriteByte('>')
		xmlEscape(b, n.text)
		b.WriteString("</" + n.name + ">\n")
	case len(n.kids) == 0:
		b.WriteString("/>\n")
	default:
		b.WriteString(">\n")
		for _, k := range n.kids {
			k.writeXML(b, depth+1)
		}
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString("</" + n.name + ">\n")
	}
}

// xmlEscape escapes like Plex: &, <, >, " and line breaks; an apostrophe
// stays literal ("You're already sharing…").
func xmlEscape(b *bytes.Buffer, s string) {
	b.WriteString(xmlReplacer.Replace(s))
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
	"\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")

func xmlValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "1"
		}
		return "0"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// jsonDoc renders {"<name>": {...}}.
func (n *node) jsonDoc() []byte {
	var b bytes.Buffer
	b.WriteString("{")
	writeJSONString(&b, n.name)
	b.WriteString(":")
	n.writeJSON(&b)
	b.WriteString("}\n")
	return b.Bytes()
}

func (n *node) writeJSON(b *bytes.Buffer) {
	b.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			b.WriteByte(',')
		}
		first = false
	}
	for _, at := range n.attrs {
		comma()
		writeJSONString(b, at.k)
		b.WriteByte(':')
		v, err := json.Marshal(at.v)
		if err != nil {
			v = []byte("null")
		}
		b.Write(v)
	}
	var order []string
	groups := map[string][]*node{}
	for _, k := range n.kids {
		key := k.jsonKey
		if key == "" {
			key = k.name
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], k)
	}
	for _, key := range order {
		comma()
		writeJSONString(b, key)
		b.WriteByte(':')
		g := groups[key]
		if g[0].jsonOne {
			g[0].writeJSON(b)
			continue
		}
		b.WriteByte('[')
		for i, k := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			k.writeJSON(b)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	v, _ := json.Marshal(s) // a string always marshals
	b.Write(v)
}

// wantsJSON reports whether the client asked for JSON.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "application/json")
}

// writeXML answers an XML document.
func writeXML(w http.ResponseWriter, status int, n *node) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(n.xmlDoc())
}

// writeRawXML answers an XML body given as text, exactly.
func writeRawXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// writeJSON answers v marshalled as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fake: encoding JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writePMS answers a PMS document as XML or, on request, JSON.
func writePMS(w http.ResponseWriter, r *http.Request, status int, n *node) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(n.jsonDoc())
		return
	}
	writeXML(w, status, n)
}

// tvError is one entry of a plex.tv v2 error document.
type tvError struct {
	Code    int    `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// writeV2Error answers a plex.tv v2 error: JSON on request, else XML
// <errors><error code message status/></errors>.
func writeV2Error(w http.ResponseWriter, r *http.Request, status, code int, field, message string) {
	e := tvError{Code: code, Field: field, Message: message, Status: status}
	if wantsJSON(r) {
		writeJSON(w, status, map[string][]tvError{"errors": {e}})
		return
	}
	writeXML(w, status, v1ErrorNode(e))
}

// writeV2NotFound answers plex.tv's v2 404 (code 1002) for an unknown resource.
func writeV2NotFound(w http.ResponseWriter, r *http.Request) {
	writeV2Error(w, r, http.StatusNotFound, codeNotFound, "", "The requested resource or endpoint could not be found")
}

// writeV1Error answers a plex.tv v1 error (always XML).
func writeV1Error(w http.ResponseWriter, status, code int, message string) {
	writeXML(w, status, v1ErrorNode(tvError{Code: code, Message: message, Status: status}))
}

func v1ErrorNode(e tvError) *node {
	attrs := []attr{a("code", e.Code)}
	if e.Field != "" {
		attrs = append(attrs, a("field", e.Field))
	}
	attrs = append(attrs, a("message", e.Message), a("status", e.Status))
	return el("errors").add(el("error", attrs...))
}

// writeResponse answers the v1 envelope <Response code status/>.
func writeResponse(w http.ResponseWriter, status, code int, text string) {
	writeXML(w, status, el("Response", a("code", code), a("status", text)))
}

// Error codes plex.tv uses (docs/plex-api.md §1.4).
const (
	codeClientIDMissing = 1000
	codeUnauthenticated = 1001
	codeNotFound        = 1002
	codeRateLimited     = 1003
	codePINNotFound     = 1020
	codeBase            = 1999
)
