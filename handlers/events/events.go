package events

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plex-manager/caddy-plex-manager/handlers/web"
	"github.com/plex-manager/caddy-plex-manager/storage"
)

// pageSize is the number of events per page.
const pageSize = 50

// ListResponse is the JSON of GET /events.
type ListResponse struct {
	Events []storage.Event `json:"events"`
	// Next is the cursor of the next page ("" at the end).
	Next string `json:"next,omitempty"`
}

// listView is the data of the events page.
type listView struct {
	Filter filterForm
	Events []storage.Event
	Next   string
	// NextQuery, ExportCSV and ExportJSON are complete URLs.
	NextQuery  string
	ExportCSV  string
	ExportJSON string
	Retention  int
	Error      string
}

// filterForm echoes the filter fields.
type filterForm struct {
	Type, Actor, User, Since, Until string
}

// list renders the events page.
func (f *Feature) list(w http.ResponseWriter, r *http.Request) {
	v := listView{Filter: filterForm{Type: r.URL.Query().Get("type"), Actor: r.URL.Query().Get("actor"),
		User: r.URL.Query().Get("user_id"), Since: r.URL.Query().Get("since"), Until: r.URL.Query().Get("until")}}
	v.Retention, _ = LoadRetention(f.store)
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		v.Error = err.Error()
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/events", v)
		return
	}
	q.Limit = pageSize
	evs, err := f.store.ListEvents(q)
	if errors.Is(err, storage.ErrInvalid) {
		v.Error = "The filter is not valid."
		web.RenderStatus(w, r, http.StatusBadRequest, "admin/events", v)
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "listing events", err)
		return
	}
	v.Events = evs
	fv := filterValues(q)
	if len(evs) == pageSize {
		v.Next = evs[len(evs)-1].ID
		nv := filterValues(q)
		nv.Set("before", v.Next)
		v.NextQuery = web.URL(r, "/events") + "?" + nv.Encode()
	}
	fv.Set("format", "csv")
	v.ExportCSV = web.URL(r, "/events/export") + "?" + fv.Encode()
	fv.Set("format", "json")
	v.ExportJSON = web.URL(r, "/events/export") + "?" + fv.Encode()
	web.Render(w, r, "admin/events", v)
}

// detailView is the data of the event page.
type detailView struct {
	Event storage.Event
	Data  string
}

// detail renders one event.
func (f *Feature) detail(w http.ResponseWriter, r *http.Request) {
	ev, err := f.store.GetEvent(r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalid) {
		web.Error(w, r, http.StatusNotFound)
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "reading an event", err)
		return
	}
	v := detailView{Event: ev}
	if len(ev.Data) > 0 {
		raw, _ := json.MarshalIndent(ev.Data, "", "  ")
		v.Data = string(raw)
	}
	web.Render(w, r, "admin/events-detail", v)
}

// apiList answers GET /events.
func (f *Feature) apiList(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	var ie *web.InputError
	if errors.As(err, &ie) {
		web.BadInput(w, ie.Field, ie.Message)
		return
	}
	evs, err := f.store.ListEvents(q)
	if errors.Is(err, storage.ErrInvalid) {
		web.BadInput(w, "before", "is not a cursor from a previous page")
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "listing events", err)
		return
	}
	resp := ListResponse{Events: evs}
	if resp.Events == nil {
		resp.Events = []storage.Event{}
	}
	limit := q.Limit
	if limit == 0 {
		limit = storage.DefaultEventLimit
	}
	if len(evs) == limit {
		resp.Next = evs[len(evs)-1].ID
	}
	web.JSON(w, http.StatusOK, resp)
}

// csvCell guards a cell against spreadsheet formula injection.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// export streams every event matching the filter as CSV or JSON, page by page.
func (f *Feature) export(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		http.Error(w, "format must be csv or json", http.StatusBadRequest)
		return
	}
	q.Limit = storage.MaxEventLimit
	first, err := f.store.ListEvents(q)
	if errors.Is(err, storage.ErrInvalid) {
		http.Error(w, "the filter is not valid", http.StatusBadRequest)
		return
	}
	if err != nil {
		web.ServerError(w, r, nil, "exporting events", err)
		return
	}
	name := "events-" + time.Now().UTC().Format("20060102-150405") + "." + format
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	bw := bufio.NewWriterSize(w, 64<<10)
	each := func(fn func(storage.Event) error) error {
		page := first
		for {
			for _, ev := range page {
				if err := fn(ev); err != nil {
					return err
				}
			}
			if len(page) < q.Limit {
				return nil
			}
			q.Before = page[len(page)-1].ID
			if page, err = f.store.ListEvents(q); err != nil {
				return err
			}
		}
	}
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(bw)
		_ = cw.Write([]string{"id", "at", "type", "actor", "user_id", "invite_id", "server_id", "message", "data"})
		err = each(func(ev storage.Event) error {
			data := ""
			if len(ev.Data) > 0 {
				raw, _ := json.Marshal(ev.Data)
				data = string(raw)
			}
			uid := ""
			if ev.UserID != 0 {
				uid = strconv.FormatInt(ev.UserID, 10)
			}
			return cw.Write([]string{ev.ID, ev.At.UTC().Format(time.RFC3339Nano), csvCell(ev.Type), csvCell(ev.Actor), uid,
				csvCell(ev.InviteID), csvCell(ev.ServerID), csvCell(ev.Message), csvCell(data)})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	} else {
		h.Set("Content-Type", "application/json")
		_, _ = bw.WriteString("[")
		enc := json.NewEncoder(bw)
		n := 0
		err = each(func(ev storage.Event) error {
			if n > 0 {
				if _, err := bw.WriteString(","); err != nil {
					return err
				}
			}
			n++
			return enc.Encode(ev)
		})
		if err == nil {
			// Without the closing bracket a failed export is not valid JSON, so it cannot pass
			// for a complete one.
			_, _ = bw.WriteString("]\n")
		}
	}
	_ = bw.Flush()
}
