package plex

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want Filter
		err  string
	}{
		{"", Filter{}, ""},
		{"contentRating=G%2CPG|label!=adult", Filter{ContentRatings: []string{"G", "PG"}, ExcludeLabels: []string{"adult"}}, ""},
		{"contentRating=G,PG%2cPG-13", Filter{ContentRatings: []string{"G", "PG", "PG-13"}}, ""},
		{"label=Kids%20Only", Filter{Labels: []string{"Kids Only"}}, ""},
		{"contentRating!=R|label=kids", Filter{ExcludeContentRatings: []string{"R"}, Labels: []string{"kids"}}, ""},
		{"rating=G", Filter{}, "unknown filter key"},
		{"contentRating", Filter{}, "no '='"},
		{"contentRating=", Filter{}, "empty value"},
		{"contentRating=G%2C", Filter{}, "empty value"},
		{"label=a|label=b", Filter{}, "appears twice"},
		{"label=%zz", Filter{}, "percent-encoding"},
		{"label=a%7Cb", Filter{}, "cannot carry"},
		{"label=" + strings.Repeat("x", 101), Filter{}, "longer than"},
	}
	for _, tt := range tests {
		got, err := ParseFilter(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseFilter(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestFilterString(t *testing.T) {
	f := Filter{ContentRatings: []string{"G", "PG"}, ExcludeContentRatings: []string{"R"}, Labels: []string{"kids"}, ExcludeLabels: []string{"adult", "gore"}}
	if got, want := f.String(), "contentRating=G%2CPG|contentRating!=R|label=kids|label!=adult%2Cgore"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if (Filter{}).String() != "" || !(Filter{}).IsZero() || f.IsZero() {
		t.Error("empty filter handling")
	}
	if err := (Filter{Labels: []string{"a|b"}}).Validate(); err == nil {
		t.Error("a value with | validated")
	}
}

func TestFiltersValidate(t *testing.T) {
	tests := []struct {
		f   Filters
		err string
	}{
		{Filters{}, ""},
		{Filters{Movies: "contentRating=PG", Television: "label!=scary", Music: "label=kids"}, ""},
		{Filters{Music: "contentRating=G"}, "music filter"},
		{Filters{Television: "foo=bar"}, "television filter"},
	}
	for _, tt := range tests {
		err := tt.f.Validate()
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v: error %v, want %q", tt.f, err, tt.err)
		}
	}
}
