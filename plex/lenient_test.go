package plex

import (
	"encoding/json"
	"encoding/xml"
	"testing"
	"time"
)

func TestFlexBool(t *testing.T) {
	tests := []struct {
		json string
		want bool
		err  bool
	}{
		{`true`, true, false}, {`false`, false, false}, {`1`, true, false}, {`0`, false, false},
		{`"1"`, true, false}, {`"0"`, false, false}, {`"true"`, true, false}, {`"False"`, false, false},
		{`null`, false, false}, {`""`, false, false}, {`2`, true, false}, {`"yes"`, true, false},
		{`"maybe"`, false, true}, {`{}`, false, true}, {`[]`, false, true},
	}
	for _, tt := range tests {
		var v struct {
			B flexBool `json:"b"`
		}
		err := json.Unmarshal([]byte(`{"b":`+tt.json+`}`), &v)
		if (err != nil) != tt.err {
			t.Errorf("JSON %s: err = %v, want error %t", tt.json, err, tt.err)
			continue
		}
		if err == nil && bool(v.B) != tt.want {
			t.Errorf("JSON %s = %t, want %t", tt.json, v.B, tt.want)
		}
	}
	for attr, want := range map[string]bool{"1": true, "0": false, "true": true, "false": false, "": false, " 1 ": true} {
		var v struct {
			B flexBool `xml:"b,attr"`
		}
		if err := xml.Unmarshal([]byte(`<x b="`+attr+`"/>`), &v); err != nil {
			t.Errorf("XML %q: %v", attr, err)
			continue
		}
		if bool(v.B) != want {
			t.Errorf("XML %q = %t, want %t", attr, v.B, want)
		}
	}
	var v struct {
		B flexBool `xml:"b,attr"`
	}
	if err := xml.Unmarshal([]byte(`<x b="perhaps"/>`), &v); err == nil {
		t.Error(`XML "perhaps" decoded without error`)
	}
}

func TestFlexInt(t *testing.T) {
	tests := []struct {
		json string
		want int64
		err  bool
	}{
		{`42`, 42, false}, {`"42"`, 42, false}, {`null`, 0, false}, {`""`, 0, false}, {`-7`, -7, false},
		{`12.0`, 12, false}, {`"1.5e3"`, 1500, false}, {`12.5`, 0, true}, {`"abc"`, 0, true}, {`true`, 0, true},
		{`1e300`, 0, true}, {`[1]`, 0, true},
	}
	for _, tt := range tests {
		var v struct {
			N flexInt `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+tt.json+`}`), &v)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %t", tt.json, err, tt.err)
			continue
		}
		if err == nil && int64(v.N) != tt.want {
			t.Errorf("%s = %d, want %d", tt.json, v.N, tt.want)
		}
	}
}

func TestFlexTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`1700000000`, time.Unix(1700000000, 0).UTC(), false},
		{`"1700000000"`, time.Unix(1700000000, 0).UTC(), false},
		{`"2019-06-24T11:38:02Z"`, time.Date(2019, 6, 24, 11, 38, 2, 0, time.UTC), false},
		{`"2019-06-24T13:38:02+02:00"`, time.Date(2019, 6, 24, 11, 38, 2, 0, time.UTC), false},
		{`"1998-01-25"`, time.Date(1998, 1, 25, 0, 0, 0, 0, time.UTC), false},
		{`null`, time.Time{}, false}, {`0`, time.Time{}, false}, {`""`, time.Time{}, false}, {`-5`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		// The last second JSON and RFC 3339 can write, and just past it (also reached
		// through an offset).
		{`253402300799`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{`253402300800`, time.Time{}, true}, {`"999999999999"`, time.Time{}, true}, {`9007199254740992`, time.Time{}, true},
		{`"9999-12-31T23:00:00-05:00"`, time.Time{}, true}, {`"0000-01-01T00:30:00+01:00"`, time.Time{}, true},
		{`"0000-01-01T00:00:00Z"`, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		var v struct {
			T flexTime `json:"t"`
		}
		err := json.Unmarshal([]byte(`{"t":`+tt.in+`}`), &v)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v, want error %t", tt.in, err, tt.err)
			continue
		}
		if err == nil && !v.T.Time().Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.in, v.T.Time(), tt.want)
		}
	}
}

func TestFlexStringAndOneOrMany(t *testing.T) {
	var v struct {
		A flexString            `json:"a"`
		B flexString            `json:"b"`
		C flexString            `json:"c"`
		D flexString            `json:"d"`
		O oneOrMany[flexString] `json:"o"`
		M oneOrMany[flexString] `json:"m"`
		N oneOrMany[flexString] `json:"n"`
	}
	if err := json.Unmarshal([]byte(`{"a":4,"b":"x","c":null,"d":"null","o":"one","m":["1",2],"n":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "4" || v.B != "x" || v.C != "" || v.D != "null" {
		t.Errorf("flexString: got %q %q %q %q", v.A, v.B, v.C, v.D)
	}
	if len(v.O) != 1 || v.O[0] != "one" || len(v.M) != 2 || v.M[1] != "2" || v.N != nil {
		t.Errorf("oneOrMany: got %v %v %v", v.O, v.M, v.N)
	}
	if err := json.Unmarshal([]byte(`{"a":{"x":1}}`), &v); err == nil {
		t.Error("flexString accepted an object")
	}
}
