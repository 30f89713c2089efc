package app

// SetDirectLineage turns the answers written without the GraphQL executor
// (lineage, me, listings) on or off, so that tests can compare them with
// the executor's.
func (a *App) SetDirectLineage(on bool) { a.schema.SetDirectLineage(on) }

// DirectAnswers is how many operations were answered without the executor.
func (a *App) DirectAnswers() int64 { return a.schema.DirectAnswers() }
