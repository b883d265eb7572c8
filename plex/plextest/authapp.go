package plextest

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// authPage is the auth app emulation. The real app reads its parameters from
// the URL fragment (#?clientID=…&code=…), which browsers never send to the
// server, so a small script copies them into the form; the same parameters
// in the query string work without script.
var authPage = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Plex (fake)</title>
</head>
<body>
<main>
<h1>Sign in to Plex</h1>
<p id="product">{{if .Product}}{{.Product}} wants to sign in with your Plex account.{{else}}An app wants to sign in with your Plex account.{{end}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" id="code" name="code" value="{{.Code}}">
<input type="hidden" id="clientID" name="clientID" value="{{.ClientID}}">
<input type="hidden" id="forwardUrl" name="forwardUrl" value="{{.ForwardURL}}">
<label for="account">Account</label>
<select id="account" name="account" required>
{{range .Accounts}}<option value="{{.ID}}">{{.Title}}{{if .Email}} ({{.Email}}){{end}}</option>
{{end}}</select>
<button type="submit">Sign in</button>
</form>
</main>
<script>
(function () {
  var h = window.location.hash.replace(/^#!?\??/, "");
  if (!h) { return; }
  var p = new URLSearchParams(h);
  ["code", "clientID", "forwardUrl"].forEach(function (k) {
    var v = p.get(k);
    if (v !== null) { document.getElementById(k).value = v; }
  });
  var product = p.get("context[device][product]");
  if (product) {
    document.getElementById("product").textContent = product + " wants to sign in with your Plex account.";
  }
})();
</script>
</body>
</html>
`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Signed in (fake Plex)</title></head>
<body><main><h1>Signed in</h1><p>You can close this window.</p></main></body>
</html>
`))

type authPageData struct {
	Action, Code, ClientID, ForwardURL, Product string
	Accounts                                    []Account
}

func (f *Fake) handleAuthPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	data := authPageData{
		Action:     f.baseURL + "/auth/claim",
		Code:       q.Get("code"),
		ClientID:   q.Get("clientID"),
		ForwardURL: q.Get("forwardUrl"),
		Product:    q.Get("context[device][product]"),
	}
	for _, acc := range f.sortedAccountsLocked() {
		if !acc.Managed {
			data.Accounts = append(data.Accounts, Account{ID: acc.ID, Title: acc.Title, Email: acc.Email})
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := authPage.Execute(w, data); err != nil {
		http.Error(w, "fake: rendering auth page: "+err.Error(), http.StatusInternalServerError)
	}
}

func (f *Fake) handleAuthClaim(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	code, clientID := r.PostForm.Get("code"), r.PostForm.Get("clientID")
	forward := r.PostForm.Get("forwardUrl")
	accountID, err := strconv.ParseInt(r.PostForm.Get("account"), 10, 64)
	if code == "" || err != nil {
		http.Error(w, "code and account are required", http.StatusBadRequest)
		return
	}
	if forward != "" {
		u, err := url.Parse(forward)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			http.Error(w, "forwardUrl must be an absolute http or https URL", http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	_, err = f.claimPINLocked(code, clientID, accountID)
	f.mu.Unlock()
	switch {
	case errors.Is(err, ErrPINNotFound):
		http.Error(w, "This code is not valid or has expired.", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, "Unknown account.", http.StatusBadRequest)
		return
	}
	if forward != "" {
		http.Redirect(w, r, forward, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = donePage.Execute(w, nil)
}
