// Package importer moves users, files and lineage from the old backends
// into this server, in one command that can be run again safely:
//
//	cutline import django  --db URL --media DIR [--neo4j-edges FILE] [--dry-run]
//	cutline import workers --d1 FILE --bucket URL [--dry-run]
//
// The target is the database and bucket the server is configured with
// (DATABASE_URL, BLOB_URL...), opened by app.New, and everything is written
// through the server's own services: auth.Service.ImportUser for accounts,
// files.Service.Create for files (so bytes are copied into our bucket and
// profiled like any upload), files.Service.CreateTombstone for files whose
// bytes are gone, lineage.AddEdges for edges.
//
// # Sources
//
// Each old backend is a small reader behind Source; the loop in Run is
// shared. Columns are looked up by name (case-insensitively), so extra
// columns are ignored and optional ones may be missing.
//
// Django (PostgreSQL, or a SQLite file; opened read-only):
//
//	auth_user             id, username, password, email?, date_joined?, last_login?, is_active?
//	list_cutter_savedfile user_id, file_id, file_name, file_path, uploaded_at?,
//	                      system_tags?, user_tags?, metadata?   (any id column is ignored)
//
// password is Django's "pbkdf2_sha256$<iterations>$<salt>$<base64>" (or
// "argon2$argon2id$..."). file_path is relative to --media (MEDIA_ROOT) or
// absolute; an absolute path outside --media is looked up by its tail
// below --media (the deployment moved), and nothing outside --media is
// ever read. Tags are PostgreSQL text[] or JSON arrays (json, jsonb or
// text); metadata is JSON (json, jsonb or text) or NULL.
//
// --neo4j-edges is a CSV of the Neo4j CUT_TO relationships, one per row:
// a header naming the source (parent) and target (derived) columns as
// source,target or from,to or source_file_id,target_file_id (also
// parent/child, start/end, optionally prefixed like a.source), and
// optionally a type column (CUT_FROM rows are flipped, other types are
// skipped); without a recognised header the first two columns are source
// and target.
//
// Workers port (a SQLite file, or the SQL text of `wrangler d1 export`):
//
//	users              id, username, password_hash, email?, created_at?
//	saved_files        user_id, file_id, file_name, file_path, uploaded_at?,
//	                   system_tags?, user_tags?, metadata?
//	file_relationships source_file_id, target_file_id, relationship_type?   (the table is optional)
//
// password_hash is the unsalted hex SHA-256 of the password. Tags are JSON
// text arrays, metadata JSON text. Times are ISO 8601 / SQLite
// CURRENT_TIMESTAMP text or Unix seconds or milliseconds, UTC unless they
// say otherwise. relationship_type CUT_TO (or NULL) is parent -> child,
// CUT_FROM is child -> parent and is flipped. The bucket is any URL
// blobstore.Open accepts; each row's bytes are the object named by its
// file_path (a leading "/" is dropped).
//
// In both, lineage also comes from each file's metadata: the old frontend
// stored original_file_id at the top level of the generated file's JSON.
//
// # What is kept and what changes
//
// Users keep their id when no account here has it (else they get a new
// one), their username, email (unless another account has it: then none),
// join date, last login and password hash; auth verifies Django's and the
// port's hashes and replaces them with argon2id at the first successful
// login. Django accounts with is_active false are imported with their
// files but with the password disabled, as Django refused their logins.
// Usernames that differ only in case (Django allowed both) cannot both
// exist here: the lower id keeps the name, the other fails with its files.
//
// Files keep their file_id (a non-UUID id becomes a name-based UUID derived
// from it), name (made unique per owner as uploads are: name_1.csv),
// upload time, user tags and metadata; origin is GENERATED when the old
// system tags say "generated" or the metadata names an original_file_id.
// A file whose bytes are missing, or that the CSV reader rejects or
// MAX_FILE_SIZE refuses, is imported as a tombstone (a deleted file) so
// lineage through it stays whole. A file whose bytes cannot be read for
// another reason (permissions, network) is reported as failed, not
// tombstoned: a tombstone is final, and the next run retries it.
//
// # Running again
//
// Every item is committed on its own and checked before it is written: a
// user whose username exists with the same join date, a file whose id
// exists, an edge that exists, are skipped. So a second run changes
// nothing, and a run stopped half-way continues where it stopped. An
// account with the same username but another creation time was made here
// by someone else: it is reported and the old account's files are not
// given to it. --dry-run reads everything (including every file's bytes,
// to find the ones that would become tombstones) and writes nothing.
package importer
