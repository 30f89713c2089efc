package graph

import "github.com/vektah/gqlparser/v2/ast"

// maxSelectionDepth bounds the walk of a selection; deeper selections get
// the cautious answer.
const maxSelectionDepth = 8

// anySelected reports whether match holds for some field of sel, through
// fragments and nested selections. It errs towards yes: what it cannot
// read (a fragment without its definition, a selection deeper than
// maxSelectionDepth) counts as a match, @skip and @include are not read and
// type conditions are not narrowed.
func anySelected(sel ast.SelectionSet, depth int, match func(*ast.Field) bool) bool {
	if depth > maxSelectionDepth {
		return true
	}
	for _, s := range sel {
		var sub ast.SelectionSet
		switch s := s.(type) {
		case *ast.Field:
			if match(s) {
				return true
			}
			sub = s.SelectionSet
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return true
			}
			sub = s.Definition.SelectionSet
		default:
			return true
		}
		if anySelected(sub, depth+1, match) {
			return true
		}
	}
	return false
}
