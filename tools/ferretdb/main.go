// Command ferretdb runs an embedded FerretDB (SQLite handler) for local tests.
//
// It wraps github.com/FerretDB/FerretDB/ferretdb from its own module, so the
// upstream build/version check (which needs a generated version.txt) does not
// apply. The embedded mode has no telemetry reporter and an in-memory state
// provider with telemetry disabled and locked: nothing is sent anywhere.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite files, one per database (created if missing)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dataDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dataDir, logLevel string) error {
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	var level slog.Level
	if err = level.UnmarshalText([]byte(logLevel)); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		// FerretDB's default busy timeout is 10 s: under a burst of writes on a loaded machine a
		// write could wait longer for SQLite's single write lock and fail with SQLITE_BUSY ("database
		// is locked"), which MongoDB never answers. Waiting longer queues the write instead.
		SQLiteURL: "file:" + dir + "/?_pragma=busy_timeout(60000)",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	go indexIDs(ctx, dir, logger, time.Second)

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s, data in %s (pid %d)\n", listen, dir, os.Getpid())
	err = f.Run(ctx) // returns after the listener, all connections and the backend are closed
	fmt.Fprintln(os.Stderr, "ferretdb: stopped")
	return err
}
