package plextest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenFake is a fake with a frozen clock and a little of everything.
func goldenFake(t *testing.T) *Fake {
	t.Helper()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f := newFake(t, Options{Now: func() time.Time { return now }})
	f.StartSession(MinimalMachineID, Session{AccountID: 22526914, Title: "Talking Dead", GrandparentTitle: "Talking Dead",
		Type: "episode", VideoResolution: "4k", Transcode: true, ViewOffset: 2005563, Duration: 2556288})
	f.StartSession(MinimalMachineID, Session{AccountID: 1, Title: "Glass Orchard", Local: true, Player: "Office PC"})
	f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 22526914, ViewedAt: now.Add(-time.Hour), Title: "Captain America: The Winter Soldier", RatingKey: "218860"})
	f.AddHistory(MinimalMachineID, HistoryItem{AccountID: 1, ViewedAt: now.Add(-2 * time.Hour), Title: "At the Garbage Dump",
		GrandparentTitle: "Mighty Machines", Type: "episode", RatingKey: "917"})
	if _, ok := f.AddForeignServer(22522496, ""); !ok { // bob shares a server back
		t.Fatal("AddForeignServer refused bob")
	}
	return f
}

// names lists the element and attribute names of an XML document as
// "Elem" and "Elem@attr".
func xmlNames(t *testing.T, body string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("parsing XML: %v\n%s", err, body)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out[se.Name.Local] = true
			for _, a := range se.Attr {
				out[se.Name.Local+"@"+a.Name.Local] = true
			}
		}
	}
}

// jsonNames lists the key paths of a JSON document ("a", "a.b"; arrays are
// transparent).
func jsonNames(t *testing.T, body string) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("parsing JSON: %v\n%s", err, body)
	}
	out := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				out[p] = true
				walk(p, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix, c)
			}
		}
	}
	walk("", v)
	return out
}

func split(s string) []string { return strings.Fields(s) }

// goldenCases are the main documents; required are the names docs/plex-api.md
// gives for each (the fake may add more).
var goldenCases = []struct {
	name     string
	setup    func(t *testing.T, f *Fake)
	q        req
	status   int
	required []string
}{
	{name: "pin_create.json", q: req{method: "POST", path: "/api/v2/pins?strong=true", json: true, header: map[string]string{"X-Plex-Product": "My Plex Gate"}},
		status: 201, required: split("id code product trusted qr clientIdentifier location location.code location.european_union_member location.continent_code location.country location.city location.time_zone location.postal_code location.in_privacy_restricted_country location.in_privacy_restricted_region location.subdivisions location.coordinates expiresIn createdAt expiresAt authToken newRegistration")},
	{name: "pin_create.xml", q: req{method: "POST", path: "/api/v2/pins"}, status: 201, required: split("pin pin@id pin@code pin@authToken")},
	{name: "user.json", q: req{method: "GET", path: "/api/v2/user", token: owner, json: true}, status: 200,
		required: split("id uuid username title email friendlyName thumb authToken home homeAdmin homeSize maxHomeSize guest restricted protected hasPassword twoFactorEnabled joinedAt subscription subscription.active subscription.status subscription.plan subscription.subscribedAt subscription.paymentService subscription.features roles entitlements profile")},
	{name: "user.xml", q: req{method: "GET", path: "/api/v2/user", token: owner}, status: 200,
		required: split("user subscription subscription@active features feature feature@id profile entitlements entitlement entitlement@id roles role role@id")},
	{name: "users_account.xml", q: req{method: "GET", path: "/users/account", token: owner}, status: 200, required: split("user user@id user@username user@email subscription@active")},
	{name: "ping.json", q: req{method: "GET", path: "/api/v2/ping", token: owner, json: true}, status: 200, required: split("pong")},
	{name: "resources.json", q: req{method: "GET", path: "/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1", token: owner, json: true}, status: 200,
		required: split("name product productVersion platform platformVersion device clientIdentifier createdAt lastSeenAt provides ownerId sourceTitle publicAddress accessToken owned home synced relay presence httpsRequired publicAddressMatches dnsRebindingProtection natLoopbackSupported connections connections.protocol connections.address connections.port connections.uri connections.local connections.relay connections.IPv6")},
	{name: "resources.xml", q: req{method: "GET", path: "/api/v2/resources", token: owner}, status: 200, required: split("resource connections connection connection@uri resource@clientIdentifier resource@ownerId resource@sourceTitle resource@owned")},
	{name: "api_server.xml", q: req{method: "GET", path: "/api/servers/" + MinimalMachineID, token: owner}, status: 200,
		required: split("MediaContainer@friendlyName MediaContainer@identifier MediaContainer@machineIdentifier MediaContainer@size Server@accessToken Server@name Server@address Server@port Server@version Server@scheme Server@host Server@localAddresses Server@machineIdentifier Server@createdAt Server@updatedAt Server@owned Server@synced Section@id Section@key Section@type Section@title")},
	{name: "v2_server.json", q: req{method: "GET", path: "/api/v2/servers/" + MinimalMachineID, token: owner, json: true}, status: 200,
		required: split("librarySections librarySections.id librarySections.title")},
	{name: "api_users.xml", q: req{method: "GET", path: "/api/users/", token: owner}, status: 200,
		required: split("MediaContainer@friendlyName MediaContainer@identifier MediaContainer@machineIdentifier MediaContainer@totalSize MediaContainer@size User@id User@title User@username User@email User@recommendationsPlaylistId User@thumb User@protected User@home User@allowTuners User@allowSync User@allowCameraUpload User@allowChannels User@allowSubtitleAdmin User@filterAll User@filterMovies User@filterMusic User@filterPhotos User@filterTelevision User@restricted Server@id Server@serverId Server@machineIdentifier Server@name Server@lastSeenAt Server@numLibraries Server@allLibraries Server@owned Server@pending")},
	{name: "shared_servers.xml", q: req{method: "GET", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: owner}, status: 200,
		required: split("SharedServer@id SharedServer@username SharedServer@email SharedServer@userID SharedServer@accessToken SharedServer@name SharedServer@acceptedAt SharedServer@invitedAt SharedServer@allowSync SharedServer@allowCameraUpload SharedServer@allowChannels SharedServer@owned SharedServer@allLibraries Section@id Section@key Section@title Section@type Section@shared")},
	{name: "shared_accepted.json", q: req{method: "GET", path: "/api/v2/shared_servers/owned/accepted", token: owner, json: true}, status: 200,
		required: shareFields("")},
	{name: "shared_pending.json", setup: func(t *testing.T, f *Fake) {
		mustStatus(t, inviteV2(t, f, "dave", "[132920523]", "{}"), 201)
		mustStatus(t, inviteV2(t, f, "carol.new@example.com", "[]", `{"allowSync":"1"}`), 201)
	}, q: req{method: "GET", path: "/api/v2/shared_servers/invites/owned/pending", token: owner, json: true}, status: 200,
		required: append(shareFields("sharedServers."), "sharedServers")},
	{name: "share_create.json", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
		body: `{"machineIdentifier":"` + MinimalMachineID + `","invitedEmail":"dave@example.com","librarySectionIds":[132920523,132920531],"settings":{"allowSync":false,"allowCameraUpload":false,"allowChannels":false,"allowTuners":0,"allowSubtitleAdmin":false,"filterMovies":"","filterTelevision":"","filterMusic":"","filterPhotos":null,"filterAll":null},"skipFriendship":true}`},
		status: 201, required: shareFields("")},
	{name: "share_duplicate.xml", q: req{method: "POST", path: "/api/v2/shared_servers", token: owner, json: true,
		body: `{"machineIdentifier":"` + MinimalMachineID + `","invitedEmail":"alice","librarySectionIds":[]}`},
		status: 422, required: split("errors error error@code error@field error@status")},
	{name: "v1_share_duplicate.xml", q: req{method: "POST", path: "/api/servers/" + MinimalMachineID + "/shared_servers", token: owner,
		body: `{"server_id":"` + MinimalMachineID + `","shared_server":{"library_section_ids":[132920523],"invited_email":"alice@example.com"}}`},
		status: 400, required: split("Response Response@code Response@status")},
	{name: "retired.xml", q: req{method: "GET", path: "/api/invites/requested", token: owner}, status: 410, required: split("Response@code Response@status")},
	{name: "error_client_id.json", q: req{method: "GET", path: "/api/v2/user", token: owner, clientID: "-", json: true}, status: 400,
		required: split("errors errors.code errors.message errors.status")},
	{name: "error_unauthorized.json", q: req{method: "GET", path: "/api/v2/user", token: "nope", json: true}, status: 401,
		required: split("errors errors.code errors.message errors.status")},
	{name: "validate.xml", q: req{method: "POST", path: "/api/users/validate?invited_email=alice", token: owner}, status: 200, required: split("Response@code Response@status")},
	{name: "home_users.xml", setup: addKid, q: req{method: "GET", path: "/api/home/users", token: owner}, status: 200,
		required: split("MediaContainer@friendlyName MediaContainer@identifier MediaContainer@machineIdentifier MediaContainer@size User@id User@uuid User@admin User@guest User@restricted User@restrictionProfile User@hasPassword User@protected User@title User@username User@email User@thumb")},
	{name: "v2_home_users.xml", setup: addKid, q: req{method: "GET", path: "/api/v2/home/users", token: owner}, status: 200,
		required: split("home@id home@name home@guestUserID home@guestUserUUID home@guestEnabled home@subscription users user@id user@uuid user@title user@username user@email user@friendlyName user@thumb user@hasPassword user@restricted user@updatedAt user@restrictionProfile user@admin user@guest user@protected")},
	{name: "managed_user.xml", q: req{method: "POST", path: "/api/v2/home/users/restricted?friendlyName=Kid&restrictionProfile=little_kid", token: owner}, status: 200,
		required: split("user@id user@uuid user@title user@username user@email user@friendlyName user@thumb user@hasPassword user@restricted user@updatedAt user@restrictionProfile user@admin user@guest user@protected")},
	{name: "v1_managed_user.xml", q: req{method: "POST", path: "/api/home/users?title=Kid", token: owner}, status: 200,
		required: split("User@id User@uuid User@title User@username User@email User@restricted User@restrictionProfile User@hasPassword User@admin User@guest User@protected User@thumb")},
	{name: "v1_cancel_invite.xml", setup: func(t *testing.T, f *Fake) {
		mustStatus(t, inviteV2(t, f, "carol.new@example.com", "[]", "{}"), 201)
	}, q: req{method: "DELETE", path: "/api/invites/requested/carol.new@example.com?friend=0&server=1&home=0", token: owner}, status: 200,
		required: split("Response@code Response@status")},
	{name: "identity.xml", q: req{method: "GET", path: "/identity"}, status: 200, required: split("MediaContainer@size MediaContainer@claimed MediaContainer@machineIdentifier MediaContainer@version")},
	{name: "identity.json", q: req{method: "GET", path: "/identity", json: true}, status: 200, required: split("MediaContainer.size MediaContainer.claimed MediaContainer.machineIdentifier MediaContainer.version")},
	{name: "pms_root.xml", q: req{method: "GET", path: "/", token: owner}, status: 200,
		required: split("MediaContainer@friendlyName MediaContainer@machineIdentifier MediaContainer@version MediaContainer@platform MediaContainer@platformVersion MediaContainer@myPlex MediaContainer@myPlexUsername MediaContainer@myPlexSigninState MediaContainer@myPlexMappingState MediaContainer@myPlexSubscription MediaContainer@multiuser MediaContainer@allowSharing MediaContainer@allowSync MediaContainer@allowCameraUpload MediaContainer@allowChannelAccess MediaContainer@transcoderActiveVideoSessions MediaContainer@ownerFeatures MediaContainer@updatedAt Directory@count Directory@key Directory@title")},
	{name: "library_sections.xml", q: req{method: "GET", path: "/library/sections", token: owner}, status: 200,
		required: split("Directory@key Directory@type Directory@title Directory@agent Directory@scanner Directory@language Directory@uuid Directory@allowSync Directory@refreshing Directory@hidden Directory@createdAt Directory@updatedAt Directory@scannedAt Location@id Location@path")},
	{name: "sessions.xml", q: req{method: "GET", path: "/status/sessions", token: owner}, status: 200, required: sessionNames()},
	{name: "sessions.json", q: req{method: "GET", path: "/status/sessions", token: owner, json: true}, status: 200,
		required: split("MediaContainer.size MediaContainer.Metadata MediaContainer.Metadata.sessionKey MediaContainer.Metadata.User.id MediaContainer.Metadata.Player.state MediaContainer.Metadata.Session.id MediaContainer.Metadata.Media.Part.Stream.streamType MediaContainer.Metadata.TranscodeSession.videoDecision")},
	{name: "history.xml", q: req{method: "GET", path: "/status/sessions/history/all?sort=viewedAt:desc&X-Plex-Container-Start=0&X-Plex-Container-Size=50", token: owner}, status: 200,
		required: split("MediaContainer@size MediaContainer@totalSize MediaContainer@offset Video@historyKey Video@key Video@ratingKey Video@librarySectionID Video@title Video@grandparentTitle Video@type Video@thumb Video@viewedAt Video@accountID Video@deviceID")},
	{name: "history.json", q: req{method: "GET", path: "/status/sessions/history/all?sort=viewedAt:desc", token: owner, json: true}, status: 200,
		required: split("MediaContainer.size MediaContainer.totalSize MediaContainer.offset MediaContainer.Metadata.historyKey MediaContainer.Metadata.viewedAt MediaContainer.Metadata.accountID")},
	{name: "metadata.xml", q: req{method: "GET", path: "/library/metadata/1001", token: owner}, status: 200, required: metadataNames()},
	{name: "metadata.json", q: req{method: "GET", path: "/library/metadata/218860", token: owner, json: true}, status: 200,
		required: split("MediaContainer.size MediaContainer.librarySectionID MediaContainer.Metadata.ratingKey MediaContainer.Metadata.key MediaContainer.Metadata.type MediaContainer.Metadata.title MediaContainer.Metadata.Media.id MediaContainer.Metadata.Media.videoResolution MediaContainer.Metadata.Media.width MediaContainer.Metadata.Media.height MediaContainer.Metadata.Media.bitrate MediaContainer.Metadata.Media.container MediaContainer.Metadata.Media.videoCodec MediaContainer.Metadata.Media.Part.id MediaContainer.Metadata.Media.Part.Stream.streamType")},
	{name: "accounts.xml", q: req{method: "GET", path: "/accounts", token: owner}, status: 200,
		required: split("MediaContainer@identifier Account@id Account@key Account@name Account@defaultAudioLanguage Account@autoSelectAudio Account@defaultSubtitleLanguage Account@subtitleMode Account@thumb")},
}

func addKid(t *testing.T, f *Fake) {
	mustStatus(t, do(t, f, req{method: "POST", path: "/api/v2/home/users/restricted?friendlyName=Kid&restrictionProfile=little_kid", token: owner}), 200)
}

func shareFields(prefix string) []string {
	var out []string
	for _, n := range split("id name ownerId invitedId invitedEmail serverId accepted acceptedAt deletedAt leftAt owned inviteToken machineIdentifier lastSeenAt numLibraries invited invited.id invited.uuid invited.title invited.username invited.restricted invited.thumb invited.status sharingSettings sharingSettings.allowChannels sharingSettings.filterMovies sharingSettings.filterMusic sharingSettings.filterPhotos sharingSettings.filterTelevision sharingSettings.filterAll sharingSettings.allowSync sharingSettings.allowCameraUpload sharingSettings.allowSubtitleAdmin sharingSettings.allowTuners libraries libraries.id libraries.key libraries.title libraries.type allLibraries") {
		out = append(out, prefix+n)
	}
	return out
}

func sessionNames() []string {
	var out []string
	add := func(el, attrs string) {
		for _, a := range split(attrs) {
			out = append(out, el+"@"+a)
		}
	}
	add("Video", "sessionKey ratingKey key type title grandparentTitle parentIndex index duration viewOffset librarySectionID librarySectionTitle thumb year")
	add("User", "id title thumb")
	add("Player", "address remotePublicAddress device machineIdentifier model platform platformVersion product profile state title vendor version local relayed secure userID")
	add("Session", "id bandwidth location")
	add("Media", "id bitrate container duration videoCodec videoResolution videoFrameRate audioCodec audioChannels width height selected")
	add("Part", "id container duration decision selected")
	add("Stream", "id streamType codec bitrate decision selected")
	add("TranscodeSession", "key throttled complete progress speed size duration remaining context protocol container videoDecision audioDecision subtitleDecision sourceVideoCodec sourceAudioCodec videoCodec audioCodec audioChannels width height transcodeHwRequested transcodeHwDecoding transcodeHwEncoding transcodeHwFullPipeline timeStamp minOffsetAvailable maxOffsetAvailable")
	return out
}

// metadataNames are the names Tautulli and python-plexapi read from
// /library/metadata/{ratingKey} (the route is not in docs/plex-api.md).
func metadataNames() []string {
	var out []string
	add := func(el, attrs string) {
		for _, a := range split(attrs) {
			out = append(out, el+"@"+a)
		}
	}
	add("MediaContainer", "size librarySectionID librarySectionTitle")
	add("Video", "ratingKey key guid type title grandparentTitle parentIndex index librarySectionID thumb duration year")
	add("Media", "id duration bitrate width height aspectRatio audioChannels audioCodec videoCodec videoResolution container videoFrameRate")
	add("Part", "id key duration file size container")
	add("Stream", "id streamType codec bitrate width height")
	return out
}

// TestGoldenDocuments compares the main documents with testdata/*.golden
// (go test ./plex/plextest -run Golden -update rewrites them) and checks
// that every name docs/plex-api.md lists for a document is present.
func TestGoldenDocuments(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			f := goldenFake(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			r := do(t, f, tc.q)
			mustStatus(t, r, tc.status)
			body := normalize(r.body, f.URL())

			var names map[string]bool
			if strings.HasSuffix(tc.name, ".json") {
				names = jsonNames(t, body)
				var buf bytes.Buffer
				if err := json.Indent(&buf, []byte(body), "", "  "); err != nil {
					t.Fatalf("indenting: %v", err)
				}
				body = buf.String() + "\n"
			} else {
				names = xmlNames(t, body)
			}
			var missing []string
			for _, n := range tc.required {
				if !names[n] {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				sort.Strings(missing)
				t.Errorf("names from plex-api.md missing: %v", missing)
			}

			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatalf("writing golden: %v", err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden (run with -update to create it): %v", err)
			}
			if string(want) != body {
				t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", tc.name, body, want)
			}
		})
	}
}

// normalize replaces the test server's random address and port.
func normalize(body, base string) string {
	body = strings.ReplaceAll(body, base, "http://fake.test:32400")
	port := base[strings.LastIndex(base, ":")+1:]
	return strings.NewReplacer(`"port":`+port, `"port":32400`, `port="`+port+`"`, `port="32400"`).Replace(body)
}

func TestGoldenCasesHaveFiles(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range goldenCases {
		if seen[tc.name] {
			t.Fatalf("duplicate golden name %s", tc.name)
		}
		seen[tc.name] = true
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatalf("reading testdata: %v", err)
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".golden"); ok && !seen[name] {
			t.Errorf("stale golden file %s", e.Name())
		}
	}
}
