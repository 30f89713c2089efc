package app

// SetDirectLineage turns the answers written without the GraphQL executor
// (lineage, me, listings) on or off, so that tests can compare them with
// the executor's.
func (a *App) SetDirectLineage(on bool) { a.schema.SetDirectLineage(on) }

// DirectAnswers is how many operations were answered without the executor.
func (a *App) DirectAnswers() int64 { return a.schema.DirectAnswers() }

// Prepared reports whether the plain query's operation is prepared, to be
// answered without gqlgen's operation machinery.
func (a *App) Prepared(query string) bool {
	if a.prepared == nil {
		return false
	}
	oc, ok := a.prepared.ops.Peek(query)
	return ok && oc != nil
}
