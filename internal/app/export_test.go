package app

// SetDirectLineage turns the lineage answers written without the GraphQL
// executor on or off, so that tests can compare them with the executor's.
func (a *App) SetDirectLineage(on bool) { a.schema.SetDirectLineage(on) }

// DirectAnswers is how many operations were answered without the executor.
func (a *App) DirectAnswers() int64 { return a.schema.DirectAnswers() }
