package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses (pure Go)
)

// FerretDB v1.24's SQLite backend creates the `_id` index on the expression
// `_ferretdb_sjson->"_id"` but queries, updates and deletes by `_id` with
// `_ferretdb_sjson->'$._id' = ?`. SQLite only uses an expression index whose
// expression matches the query's, so every `_id` lookup is a full table scan
// (a hit stops early thanks to LIMIT; a miss, an update or a delete reads the
// whole table). MongoDB resolves `_id` through its index, which is what the
// services are designed for; so this wrapper adds, beside FerretDB's own
// index, one on the expression FerretDB's queries use:
//
//	CREATE INDEX "<table>_mr_id" ON "<table>" (_ferretdb_sjson->'$._id')
//
// FerretDB does not know about it (listIndexes reads FerretDB's metadata, not
// sqlite_master) and drops it with its table. Collections are created while
// tests run, so the data directory is re-checked every interval; a database
// file whose size and modification time did not change is skipped.
func indexIDs(ctx context.Context, dir string, logger *slog.Logger, every time.Duration) {
	seen := map[string]string{}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			stamp := fileStamp(file) + fileStamp(file+"-wal")
			if stamp == "" || seen[file] == stamp {
				continue
			}
			created, err := indexFile(ctx, file)
			if err != nil {
				logger.Debug("ferretdb wrapper: _id index check failed; retrying", slog.String("file", file), slog.String("err", err.Error()))
				continue
			}
			if created > 0 {
				logger.Debug("ferretdb wrapper: _id indexes added", slog.String("file", file), slog.Int("count", created))
			}
			seen[file] = fileStamp(file) + fileStamp(file+"-wal")
		}
		for file := range seen {
			if _, err := os.Stat(file); err != nil {
				delete(seen, file)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func fileStamp(file string) string {
	info, err := os.Stat(file)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d;", info.Size(), info.ModTime().UnixNano())
}

// indexFile adds the missing `_id` expression indexes of one database file.
// mode=rw never creates a file FerretDB did not (a dropped database stays gone).
func indexFile(ctx context.Context, file string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || '_mr_id')`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0, nil // a database FerretDB is still creating
		}
		return 0, err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err = rows.Scan(&table); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, table)
	}
	rows.Close()

	created := 0
	for _, table := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+"_mr_id", table)
		if _, err = db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return created, err
		}
		created++
	}
	return created, nil
}
