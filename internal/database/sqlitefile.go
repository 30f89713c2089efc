package database

// SQLiteFile returns the file a SQLite database URL names, and false for a
// PostgreSQL URL or one that names no file.
func SQLiteFile(dsn string) (string, bool) {
	if IsPostgresURL(dsn) {
		return "", false
	}
	p, err := sqlitePath(dsn)
	return p, err == nil
}
