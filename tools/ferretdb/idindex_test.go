package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// The index the wrapper adds must be the one SQLite picks for FerretDB's `_id` lookups.
func TestIndexFileMakesIDLookupsSearchAnIndex(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE _ferretdb_collections (name TEXT NOT NULL UNIQUE, table_name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL)`,
		`CREATE TABLE "things_1234" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`,
		`CREATE UNIQUE INDEX "things_1234__id_" ON "things_1234" (_ferretdb_sjson->"_id")`,
		`INSERT INTO _ferretdb_collections VALUES ('things', 'things_1234', '{}')`,
	} {
		if _, err = db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	plan := func() string {
		var id, parent, unused int
		var detail string
		row := db.QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "things_1234" WHERE _ferretdb_sjson->'$._id' = ?`, `"x"`)
		if err := row.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		return detail
	}
	if before := plan(); !strings.HasPrefix(before, "SCAN") {
		t.Fatalf("expected FerretDB's own index to be unusable (SCAN), got %q", before)
	}
	created, err := indexFile(ctx, file)
	if err != nil || created != 1 {
		t.Fatalf("indexFile: created %d, err %v", created, err)
	}
	// Reading the schema also refreshes this connection's copy of it: an EXPLAIN alone does not
	// notice another connection's schema change (a real statement is re-prepared when it does).
	var indexSQL string
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'things_1234_mr_id'`).Scan(&indexSQL); err != nil {
		t.Fatalf("the index was not created: %v", err)
	}
	if !strings.Contains(indexSQL, `_ferretdb_sjson->'$._id'`) {
		t.Fatalf("the index must be on FerretDB's query expression, got %q", indexSQL)
	}
	if after := plan(); !strings.Contains(after, "USING INDEX things_1234_mr_id") {
		t.Fatalf("expected a search using the added index, got %q", after)
	}
	if again, err := indexFile(ctx, file); err != nil || again != 0 {
		t.Fatalf("a second pass must add nothing: %d, %v", again, err)
	}
	if _, err := indexFile(ctx, filepath.Join(t.TempDir(), "missing.sqlite")); err == nil {
		t.Fatal("a missing database file must not be created")
	}
}
