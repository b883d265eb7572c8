package plexmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/plex-manager/caddy-plex-manager/storage"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "plex-manager",
		Usage: "<backup|restore|setup-code> [flags]",
		Short: "Back up and restore Plex Manager's data; print a setup code",
		Long: `
Back up and restore the Plex Manager database.

backup asks the running Caddy for an online, consistent backup through its admin
endpoint (GET /plex_manager/backup) and writes it to --output:

	caddy plex-manager backup --output plex_manager.bak [--address localhost:2019]

restore writes a backup into a NEW, empty database directory while Caddy is
stopped (Badger must not be loaded while other transactions run). Point
data_dir at the new directory's parent, or move it into place, then start Caddy:

	caddy plex-manager restore --input plex_manager.bak --data-dir /var/lib/caddy/plex_manager.new
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(backupCommand(), restoreCommand(), setupCodeCommand())
		},
	})
}

func backupCommand() *cobra.Command {
	var output, address string
	c := &cobra.Command{
		Use:   "backup --output FILE [--address HOST:PORT]",
		Short: "Write an online backup of the running instance to a file",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return errors.New("--output is required")
			}
			return runBackup(address, output)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "file to write the backup to")
	c.Flags().StringVar(&address, "address", "localhost:2019", "Caddy's admin endpoint")
	return c
}

// runBackup downloads a backup from the admin endpoint into output, atomically.
func runBackup(address, output string) error {
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Get("http://" + address + "/plex_manager/backup")
	if err != nil {
		return fmt.Errorf("asking Caddy for a backup (is it running with plex_manager, admin at %s?): %w", address, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup refused: %s: %s", resp.Status, body)
	}
	tmp, err := os.CreateTemp(filepath.Dir(output), ".plex_manager-backup-*")
	if err != nil {
		return fmt.Errorf("creating the output file: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return fmt.Errorf("moving the backup into place: %w", err)
	}
	fmt.Printf("wrote %s (%d bytes)\n", output, n)
	return nil
}

func setupCodeCommand() *cobra.Command {
	var address string
	c := &cobra.Command{
		Use:   "setup-code [--address HOST:PORT]",
		Short: "Print a fresh one-time setup code (only while no admin exists)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := &http.Client{Timeout: 30 * time.Second}
			resp, err := client.Post("http://"+address+"/plex_manager/setup-code", "application/json", nil)
			if err != nil {
				return fmt.Errorf("asking Caddy for a setup code (admin at %s?): %w", address, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("refused: %s: %s", resp.Status, body)
			}
			var out struct {
				Code string `json:"setup_code"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
			fmt.Println(out.Code)
			return nil
		},
	}
	c.Flags().StringVar(&address, "address", "localhost:2019", "Caddy's admin endpoint")
	return c
}

func restoreCommand() *cobra.Command {
	var input, dataDir string
	c := &cobra.Command{
		Use:   "restore --input FILE --data-dir DIR",
		Short: "Restore a backup into a new data directory (Caddy stopped)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" || dataDir == "" {
				return errors.New("--input and --data-dir are required")
			}
			return runRestore(input, dataDir)
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "backup file to read")
	c.Flags().StringVar(&dataDir, "data-dir", "", "new, empty plex_manager data directory")
	return c
}

// runRestore loads a backup into <dataDir>/db. The secret key (dataDir/secret.key) is not part of the
// backup: copy it from the old data directory, or sealed secrets (Plex token) must be entered again.
func runRestore(input, dataDir string) error {
	f, err := os.Open(input)
	if err != nil {
		return fmt.Errorf("opening the backup: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dataDir, err)
	}
	dbDir := filepath.Join(dataDir, "db")
	if err := storage.Restore(dbDir, f); err != nil {
		return fmt.Errorf("restoring into %s: %w", dbDir, err)
	}
	fmt.Printf("restored %s into %s\n", input, dbDir)
	if _, err := os.Stat(filepath.Join(dataDir, "secret.key")); errors.Is(err, os.ErrNotExist) {
		fmt.Println("note: copy secret.key from the old data directory next to db/, or re-enter the Plex token after start")
	}
	return nil
}
