package files

// SetCutChunk makes s cut files in parts of about chunk bytes, looking at
// most scan bytes for each part's end, so that tests split small files
// into many parts and make boundary scans guess.
func SetCutChunk(s *Service, chunk, scan int64) { s.cutChunk, s.cutScan = chunk, scan }
