package app

import (
	"path/filepath"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
)

// minFreeSpace is the room a data folder must have for /readyz to say
// ready: below it uploads fail with INSUFFICIENT_STORAGE.
const minFreeSpace = 1 << 20

// diskFull reports whether the folder of a file:// bucket or of an SQLite
// database has less than minFreeSpace left, and which.
func (a *App) diskFull() (string, bool) {
	var dirs []string
	if dir, ok := blobstore.Folder(a.Config.BlobURL); ok {
		dirs = append(dirs, dir)
	}
	if path, ok := database.SQLiteFile(a.Config.DatabaseURL); ok {
		dirs = append(dirs, filepath.Dir(path))
	}
	for _, dir := range dirs {
		if free, err := freeBytes(dir); err == nil && free < minFreeSpace {
			return dir, true
		}
	}
	return "", false
}
