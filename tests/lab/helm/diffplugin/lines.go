package main

import "strings"

// maxCells bounds the LCS table; a larger changed middle is shown as removed-then-added.
const maxCells = 4_000_000

type edit struct {
	op   byte // ' ', '-' or '+'
	line string
}

// lineEdits is an LCS line diff after trimming the common prefix and suffix.
func lineEdits(a, b []string) []edit {
	prefix := 0
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	var edits []edit
	for _, line := range a[:prefix] {
		edits = append(edits, edit{' ', line})
	}
	edits = append(edits, middleEdits(a[prefix:len(a)-suffix], b[prefix:len(b)-suffix])...)
	for _, line := range a[len(a)-suffix:] {
		edits = append(edits, edit{' ', line})
	}
	return edits
}

func middleEdits(a, b []string) []edit {
	var edits []edit
	if len(a)*len(b) > maxCells {
		for _, line := range a {
			edits = append(edits, edit{'-', line})
		}
		for _, line := range b {
			edits = append(edits, edit{'+', line})
		}
		return edits
	}
	// lcs[i][j] = length of the LCS of a[i:] and b[j:]
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			switch {
			case a[i] == b[j]:
				lcs[i][j] = lcs[i+1][j+1] + 1
			case lcs[i+1][j] >= lcs[i][j+1]:
				lcs[i][j] = lcs[i+1][j]
			default:
				lcs[i][j] = lcs[i][j+1]
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			edits = append(edits, edit{'-', a[i]})
			i++
		default:
			edits = append(edits, edit{'+', b[j]})
			j++
		}
	}
	return edits
}

// unifiedLines prints changed lines with `context` unchanged lines around them, "..." between hunks.
func unifiedLines(a, b []string, context int) string {
	edits := lineEdits(a, b)
	show := make([]bool, len(edits))
	for k, e := range edits {
		if e.op == ' ' {
			continue
		}
		for c := k - context; c <= k+context; c++ {
			if c >= 0 && c < len(edits) {
				show[c] = true
			}
		}
	}
	var out strings.Builder
	skipped := false
	for k, e := range edits {
		if !show[k] {
			skipped = true
			continue
		}
		if skipped && out.Len() > 0 {
			out.WriteString("...\n")
		}
		skipped = false
		out.WriteByte(e.op)
		out.WriteByte(' ')
		out.WriteString(e.line)
		out.WriteByte('\n')
	}
	return out.String()
}
