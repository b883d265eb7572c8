package plex

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
)

// format is the syntax of a response body.
type format int

const (
	formatUnknown format = iota
	formatJSON
	formatXML
)

// sniff tells JSON from XML by the first significant byte. Plex's
// Content-Type is not reliable enough to decide (PMS answers text/xml or
// application/xml, sometimes with a charset, sometimes none).
func sniff(body []byte) format {
	b := bytes.TrimLeft(body, " \t\r\n\ufeff")
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return formatUnknown
	}
	switch b[0] {
	case '{', '[':
		return formatJSON
	case '<':
		return formatXML
	}
	return formatUnknown
}

// decodeJSON decodes a JSON body into v.
func decodeJSON(body []byte, v any) error {
	return json.Unmarshal(body, v)
}

// decodeXML decodes an XML body into v. The decoder accepts the HTML
// entities and charsets plex.tv is known to emit.
func decodeXML(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = passThroughCharset
	return d.Decode(v)
}

// passThroughCharset accepts UTF-8 and its common aliases; PMS declares
// UTF-8 but some proxies rewrite the declaration.
func passThroughCharset(_ string, input io.Reader) (io.Reader, error) {
	return input, nil
}

// badBody builds the error for a body that cannot be decoded.
func badBody(r *call, resp *response, err error) *Error {
	status := 0
	if resp != nil {
		status = resp.status
	}
	return &Error{Kind: ErrBadResponse, Status: status, Endpoint: r.endpoint(),
		Message: "could not read Plex's answer", Err: sanitizedDecodeError(err)}
}

// sanitizedDecodeError keeps the decoder's message short; decoder errors
// quote body fragments, which never hold our token but may be long.
func sanitizedDecodeError(err error) error {
	if err == nil {
		return nil
	}
	return decodeError(truncate(err.Error(), 200))
}

// decodeError is a decoding failure with a bounded message.
type decodeError string

// Error returns the message.
func (e decodeError) Error() string { return string(e) }

// errorBody covers every error shape plex.tv and PMS are known to send.
type jsonErrorBody struct {
	Errors []struct {
		Code    flexInt    `json:"code"`
		Message flexString `json:"message"`
		Status  flexInt    `json:"status"`
	} `json:"errors"`
	Error flexString `json:"error"`
}

type xmlErrorBody struct {
	XMLName xml.Name
	Code    string `xml:"code,attr"`
	Status  string `xml:"status,attr"`
	Message string `xml:"message,attr"`
	Errors  []struct {
		Code    string `xml:"code,attr"`
		Field   string `xml:"field,attr"`
		Status  string `xml:"status,attr"`
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"error"`
	Text string `xml:",chardata"`
}

// parseErrorBody extracts Plex's error code and message from a body:
// {"errors":[{"code":1001,"message":"..."}]}, <Response code="400"
// status="..."/>, <errors><error code="1999" .../></errors> or
// <errors><error>Not found</error></errors>. It returns zero values when the
// body holds none of these.
func parseErrorBody(body []byte) (code int, message string) {
	switch sniff(body) {
	case formatJSON:
		var j jsonErrorBody
		if json.Unmarshal(body, &j) != nil {
			return 0, ""
		}
		if len(j.Errors) > 0 {
			return int(j.Errors[0].Code), string(j.Errors[0].Message)
		}
		return 0, string(j.Error)
	case formatXML:
		var x xmlErrorBody
		if decodeXML(body, &x) != nil {
			return 0, ""
		}
		switch strings.ToLower(x.XMLName.Local) {
		case "response":
			n, _ := strconv.Atoi(x.Code)
			msg := x.Status
			if msg == "" {
				msg = x.Message
			}
			return n, msg
		case "errors":
			if len(x.Errors) == 0 {
				return 0, strings.TrimSpace(x.Text)
			}
			e := x.Errors[0]
			n, _ := strconv.Atoi(e.Code)
			msg := strings.TrimSpace(e.Message)
			if msg == "" {
				msg = strings.TrimSpace(e.Text)
			}
			return n, msg
		case "error":
			n, _ := strconv.Atoi(x.Code)
			msg := x.Message
			if msg == "" {
				msg = strings.TrimSpace(x.Text)
			}
			return n, msg
		}
	}
	return 0, ""
}
