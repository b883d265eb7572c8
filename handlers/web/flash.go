package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// flashLifetime bounds how long a flash message waits for the next page.
const flashLifetime = time.Minute

// maxFlashes keeps the flash cookie small.
const maxFlashes = 4

// setFlash appends msg to the flash cookie of the response.
func (m *Mux) setFlash(w http.ResponseWriter, r *http.Request, msg FlashMessage) {
	list := m.readFlashes(r)
	if e := envFrom(r); e != nil {
		list = append(list, e.pendingFlash...)
		e.pendingFlash = append(e.pendingFlash, msg)
	}
	list = append(list, msg)
	if len(list) > maxFlashes {
		list = list[len(list)-maxFlashes:]
	}
	body, err := json.Marshal(list)
	if err != nil {
		return
	}
	value := base64.RawURLEncoding.EncodeToString(body)
	value += "." + m.flashMAC(value)
	http.SetCookie(w, m.cookie(r, flashCookieName, value, flashLifetime))
}

// consumeFlashes moves the messages of the request's flash cookie into the page and deletes the
// cookie.
func (m *Mux) consumeFlashes(w http.ResponseWriter, r *http.Request) {
	e := envFrom(r)
	if e == nil {
		return
	}
	list := m.readFlashes(r)
	if len(list) == 0 {
		return
	}
	e.flashes = append(list, e.flashes...)
	http.SetCookie(w, m.cookie(r, flashCookieName, "", -1))
}

// readFlashes decodes and verifies the flash cookie; a forged or malformed one is ignored.
func (m *Mux) readFlashes(r *http.Request) []FlashMessage {
	raw := ReadCookie(r, flashCookieName)
	value, mac, ok := strings.Cut(raw, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(m.flashMAC(value))) {
		return nil
	}
	body, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil
	}
	var list []FlashMessage
	if json.Unmarshal(body, &list) != nil {
		return nil
	}
	out := list[:0]
	for _, f := range list {
		switch f.Kind {
		case FlashInfo, FlashSuccess, FlashWarning, FlashError:
			out = append(out, f)
		}
	}
	return out
}

// flashMAC signs a flash cookie value with the Mux's key.
func (m *Mux) flashMAC(value string) string {
	h := hmac.New(sha256.New, m.flashKey)
	h.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
