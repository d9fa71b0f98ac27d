package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// resource is one Kubernetes object of a release manifest.
type resource struct {
	key  string // "namespace, name, Kind (group)" as helm-diff prints it
	node *yaml.Node
}

func child(mapping *yaml.Node, key string) *yaml.Node {
	if mapping == nil || mapping.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}

func scalar(mapping *yaml.Node, path ...string) string {
	node := mapping
	for _, key := range path {
		node = child(node, key)
	}
	if node == nil {
		return ""
	}
	return node.Value
}

// parseManifest splits a multi-document manifest into resources keyed like helm-diff keys them.
func parseManifest(text, namespace string) (map[string]*yaml.Node, error) {
	docs := map[string]*yaml.Node{}
	decoder := yaml.NewDecoder(strings.NewReader(text))
	for {
		var doc yaml.Node
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot parse manifest: %w", err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := doc.Content[0]
		stripComments(root) // "# Source:" lines differ between `helm get` and a dry-run
		group := scalar(root, "apiVersion")
		if i := strings.LastIndex(group, "/"); i >= 0 {
			group = group[:i]
		} else {
			group = ""
		}
		ns := scalar(root, "metadata", "namespace")
		if ns == "" {
			ns = namespace
		}
		key := fmt.Sprintf("%s, %s, %s (%s)", ns, scalar(root, "metadata", "name"), scalar(root, "kind"), group)
		docs[key] = root
	}
}

func stripComments(node *yaml.Node) {
	node.HeadComment, node.LineComment, node.FootComment = "", "", ""
	for _, sub := range node.Content {
		stripComments(sub)
	}
}

// secretValues maps "data/key" and "stringData/key" of a Secret to their decoded values.
func secretValues(root *yaml.Node) map[string]string {
	values := map[string]string{}
	if root == nil || scalar(root, "kind") != "Secret" {
		return values
	}
	for _, field := range []string{"data", "stringData"} {
		mapping := child(root, field)
		if mapping == nil || mapping.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(mapping.Content); i += 2 {
			value := mapping.Content[i+1].Value
			if field == "data" {
				if decoded, err := base64.StdEncoding.DecodeString(value); err == nil {
					value = string(decoded)
				}
			}
			values[field+"/"+mapping.Content[i].Value] = value
		}
	}
	return values
}

// maskSecret replaces every Secret value by its length; a value that differs from the other side
// is marked with minus (old) or plus (new) signs so the change still shows.
func maskSecret(root *yaml.Node, own, other map[string]string, sign string) {
	if scalar(root, "kind") != "Secret" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		mapping := child(root, field)
		if mapping == nil || mapping.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(mapping.Content); i += 2 {
			key := field + "/" + mapping.Content[i].Value
			value, ok := other[key]
			mark := "REDACTED"
			if !ok || value != own[key] {
				mark = strings.Repeat(sign, 8)
			}
			node := mapping.Content[i+1]
			node.Kind, node.Tag, node.Style = yaml.ScalarNode, "!!str", 0
			node.Content = nil
			node.Value = fmt.Sprintf("%s # (%d bytes)", mark, len(own[key]))
		}
	}
}

func render(root *yaml.Node) (string, error) {
	if root == nil {
		return "", nil
	}
	var buf bytes.Buffer
	encoder := yaml.NewEncoder(&buf)
	encoder.SetIndent(2)
	if err := encoder.Encode(root); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// diffReleases renders the per-resource report; it is empty when nothing would change.
func diffReleases(oldDocs, newDocs map[string]*yaml.Node, showSecrets bool, context int) (string, error) {
	keys := make([]string, 0, len(oldDocs)+len(newDocs))
	for key := range oldDocs {
		keys = append(keys, key)
	}
	for key := range newDocs {
		if _, ok := oldDocs[key]; !ok {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	var out strings.Builder
	for _, key := range keys {
		oldRoot, newRoot := oldDocs[key], newDocs[key]
		if !showSecrets {
			oldValues, newValues := secretValues(oldRoot), secretValues(newRoot)
			if oldRoot != nil {
				maskSecret(oldRoot, oldValues, newValues, "-")
			}
			if newRoot != nil {
				maskSecret(newRoot, newValues, oldValues, "+")
			}
		}
		oldText, err := render(oldRoot)
		if err != nil {
			return "", err
		}
		newText, err := render(newRoot)
		if err != nil {
			return "", err
		}
		if oldText == newText {
			continue
		}
		switch {
		case oldRoot == nil:
			fmt.Fprintf(&out, "%s has been added:\n", key)
		case newRoot == nil:
			fmt.Fprintf(&out, "%s has been removed:\n", key)
		default:
			fmt.Fprintf(&out, "%s has changed:\n", key)
		}
		out.WriteString(unifiedLines(splitLines(oldText), splitLines(newText), context))
	}
	return out.String(), nil
}

func splitLines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
