-- The client address an anonymous scratch upload counts against: the
-- scratch quota is the sum of an address's live scratch files.
ALTER TABLE files ADD COLUMN client_key TEXT;
CREATE INDEX files_scratch_client ON files (client_key, expires_at) WHERE owner_id IS NULL AND deleted_at IS NULL;
