package lineage

import (
	"fmt"
	"testing"
)

func TestZZPrint(t *testing.T) {
	fmt.Println(walkSQL(false, []side{up, down}))
}
