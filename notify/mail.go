package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mailer sends one plain-text e-mail.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

// DMSender sends a Discord direct message to a user by Discord id (the root wires the Discord
// bot; tests use a fake).
type DMSender interface {
	SendDM(ctx context.Context, discordUserID, text string) error
}

// SMTPMailer sends mail through an SMTP server with net/smtp.
type SMTPMailer struct {
	Settings SMTPSettings
	// TLSConfig overrides the TLS settings (tests trust their own certificate); nil: system roots
	// with the host name checked.
	TLSConfig *tls.Config
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
}

// SendMail connects, upgrades to TLS as configured, authenticates when a user name is set, and
// sends the message. It refuses to send a password over an unencrypted connection.
func (m SMTPMailer) SendMail(ctx context.Context, to, subject, body string) error {
	s := m.Settings
	if !s.Configured() {
		return errors.New("no mail server configured")
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("sender address: %w", err)
	}
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("recipient address: %w", err)
	}
	port := s.Port
	if port == 0 {
		port = map[string]int{"tls": 465, "none": 25}[s.Security]
		if port == 0 {
			port = 587
		}
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	tlsConf := m.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	if s.Security == "tls" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connecting to the mail server: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail server greeting: %w", err)
	}
	defer c.Close()
	if s.Security == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the mail server does not offer STARTTLS")
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return errors.New("refusing to send the mail password over an unencrypted connection")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail server login: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt.Address); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	msg := buildMail(from.String(), rcpt.String(), subject, body, now())
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("ending the message: %w", err)
	}
	return c.Quit()
}

// buildMail formats a UTF-8 plain-text message with CRLF line ends.
func buildMail(from, to, subject, body string, at time.Time) string {
	var b strings.Builder
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)))
	hdr("Date", at.UTC().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	// net/smtp's DATA writer does the dot-stuffing.
	for _, line := range strings.Split(body, "\n") {
		b.WriteString(line + "\r\n")
	}
	return b.String()
}

// settingsMailer sends through SMTP with the current settings.
type settingsMailer struct{ n *Notifier }

func (m settingsMailer) SendMail(ctx context.Context, to, subject, body string) error {
	s, err := m.n.Settings()
	if err != nil {
		return err
	}
	return SMTPMailer{Settings: s.SMTP, Now: m.n.opts.Now}.SendMail(ctx, to, subject, body)
}
