package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestMergeShoutrrrURLs saves the settings form as an admin edits it: the form shows Public's
// hidden shoutrrr URLs, one a line, and posts the lines back.
func TestMergeShoutrrrURLs(t *testing.T) {
	const (
		a = "generic://example.com/hooks/aaaa1111"
		b = "generic://example.com/hooks/bbbb2222"
		c = "telegram://123456:tg-token-abc@telegram?chats=@chan"
		n = "generic://example.com/hooks/cccc3333"
	)
	saved := Settings{ShoutrrrURLs: []string{a, b, c}}
	shown := saved.Public().ShoutrrrURLs
	if len(shown) != 3 || shown[0] == shown[1] {
		t.Fatalf("Public shows %q: the two example.com URLs cannot be told apart", shown)
	}
	for _, line := range shown {
		for _, secret := range []string{"aaaa1111", "bbbb2222", "tg-token-abc", "123456"} {
			if strings.Contains(line, secret) {
				t.Fatalf("Public shows %q in %q", secret, line)
			}
		}
	}
	tests := []struct {
		name   string
		posted []string
		want   []string
	}{
		{"unchanged", shown, []string{a, b, c}},
		{"first removed", []string{shown[1], shown[2]}, []string{b, c}},
		{"second removed", []string{shown[0], shown[2]}, []string{a, c}},
		{"reordered", []string{shown[2], shown[1], shown[0]}, []string{c, b, a}},
		{"first replaced", []string{n, shown[1], shown[2]}, []string{n, b, c}},
		{"one added", []string{shown[0], shown[1], shown[2], n}, []string{a, b, c, n}},
		{"padded with spaces", []string{" " + shown[1] + " "}, []string{b}},
		// A form of the shape Public showed before lines named their channel: a hidden URL that
		// stands for one saved URL keeps it.
		{"plain hidden, unique", []string{"telegram://…@telegram/…"}, []string{c}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := saved.Merge(Settings{ShoutrrrURLs: tt.posted})
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate after Merge: %v", err)
			}
			if !slices.Equal(got.ShoutrrrURLs, tt.want) {
				t.Errorf("Merge(%q) = %q, want %q", tt.posted, got.ShoutrrrURLs, tt.want)
			}
		})
	}

	// A shown form that shows the form again after a refusal keeps naming the saved URLs.
	again := Settings{ShoutrrrURLs: []string{shown[1]}}.Public().ShoutrrrURLs
	if got := saved.Merge(Settings{ShoutrrrURLs: again}).ShoutrrrURLs; !slices.Equal(got, []string{b}) {
		t.Errorf("a form shown again after a refusal: Merge(%q) = %q, want %q", again, got, []string{b})
	}
}

// TestMergeRefusesHiddenURLsItCannotPlace: a hidden line that stands for no saved URL, or for
// more than one, is refused by Validate instead of being saved as the text shown.
func TestMergeRefusesHiddenURLsItCannotPlace(t *testing.T) {
	saved := Settings{ShoutrrrURLs: []string{"generic://example.com/hooks/aaaa1111", "generic://example.com/hooks/bbbb2222"}}
	shown := saved.Public().ShoutrrrURLs
	tests := []struct {
		name   string
		posted []string
	}{
		{"plain hidden, two match", []string{"generic://example.com/…"}},
		{"channel gone", []string{strings.Replace(shown[1], ":2)", ":3)", 1)}},
		{"host edited", []string{strings.Replace(shown[0], "example.com", "example.org", 1)}},
		{"hidden user info, none saved", []string{"generic://…@example.com/…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := saved.Merge(Settings{ShoutrrrURLs: tt.posted})
			err := got.Validate()
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "shoutrrr_urls" {
				t.Fatalf("Validate after Merge(%q) = %v (urls %q), want a shoutrrr_urls error", tt.posted, err, got.ShoutrrrURLs)
			}
			if strings.Contains(ie.Message, "example") {
				t.Errorf("the error repeats the line: %q", ie.Message)
			}
		})
	}
}

// TestValidateErrorsRepeatNoInput: the settings page shows a refusal's message next to the field;
// it says what is wrong in fixed words and never repeats what was submitted.
func TestValidateErrorsRepeatNoInput(t *testing.T) {
	const typed = `<script>alert("x")</script>`
	tests := []struct {
		s     Settings
		field string
	}{
		{Settings{Kinds: []string{KindUserJoined, typed}}, "kinds"},
		{Settings{WebhookURL: "ftp://" + "example.com/" + typed}, "webhook_url"},
		{Settings{DiscordWebhookURL: typed}, "discord_webhook_url"},
		{Settings{ShoutrrrURLs: []string{typed}}, "shoutrrr_urls"},
		{Settings{ShoutrrrURLs: []string{"generic://example.com/a", "nosuchservice://script.example.com/x"}}, "shoutrrr_urls"},
		{Settings{SMTP: SMTPSettings{Security: typed}}, "smtp.security"},
		{Settings{SMTP: SMTPSettings{From: typed}}, "smtp.from"},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("Validate(%+v) = %v, want a %s error", tt.s, err, tt.field)
			continue
		}
		if strings.Contains(ie.Message, "script") || strings.Contains(ie.Error(), "script") {
			t.Errorf("%s: the message repeats the input: %q", tt.field, ie.Error())
		}
	}
}
