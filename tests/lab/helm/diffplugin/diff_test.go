package main

import (
	"strings"
	"testing"
)

const oldManifest = `---
# Source: demo/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
data:
  a: "1"
  b: "2"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: apps
data:
  password: c2VjcmV0MQ==
  user: bGFi
`

func diffOf(t *testing.T, oldText, newText string, showSecrets bool) string {
	t.Helper()
	oldDocs, err := parseManifest(oldText, "default")
	if err != nil {
		t.Fatal(err)
	}
	newDocs, err := parseManifest(newText, "default")
	if err != nil {
		t.Fatal(err)
	}
	out, err := diffReleases(oldDocs, newDocs, showSecrets, 3)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSameManifestIsEmpty(t *testing.T) {
	if out := diffOf(t, oldManifest, oldManifest, false); out != "" {
		t.Fatalf("expected no diff, got %q", out)
	}
}

func TestSourceCommentsAreIgnored(t *testing.T) {
	other := strings.Replace(oldManifest, "# Source: demo/templates/cm.yaml\n", "", 1)
	if out := diffOf(t, oldManifest, other, false); out != "" {
		t.Fatalf("expected no diff, got %q", out)
	}
}

func TestChangedValueShowsResource(t *testing.T) {
	out := diffOf(t, oldManifest, strings.Replace(oldManifest, `b: "2"`, `b: "3"`, 1), false)
	for _, want := range []string{"default, demo, ConfigMap () has changed:", `-   b: "2"`, `+   b: "3"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
}

func TestSecretValuesAreMasked(t *testing.T) {
	out := diffOf(t, oldManifest, strings.Replace(oldManifest, "c2VjcmV0MQ==", "c2VjcmV0Mg==", 1), false)
	if !strings.Contains(out, "apps, creds, Secret () has changed:") {
		t.Fatalf("secret change not reported:\n%s", out)
	}
	for _, secret := range []string{"c2VjcmV0", "secret1", "secret2"} {
		if strings.Contains(out, secret) {
			t.Fatalf("secret value %q leaked:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "++++++++ # (7 bytes)") || !strings.Contains(out, "REDACTED # (3 bytes)") {
		t.Fatalf("unexpected masking:\n%s", out)
	}
}

func TestAddedAndRemoved(t *testing.T) {
	out := diffOf(t, "", oldManifest, true)
	if !strings.Contains(out, "has been added:") || !strings.Contains(out, "+   password: c2VjcmV0MQ==") {
		t.Fatalf("unexpected:\n%s", out)
	}
	if out := diffOf(t, oldManifest, "", false); !strings.Contains(out, "default, demo, ConfigMap () has been removed:") {
		t.Fatalf("unexpected:\n%s", out)
	}
}

func TestParseArgsSplitsPluginAndHelmFlags(t *testing.T) {
	opts, err := parseArgs([]string{"rel", "repo/chart", "--repo=http://x", "--version", "1.0.0",
		"--reset-values=True", "-f=/tmp/v.yml", "--values", "/tmp/w.yml", "--allow-unreleased", "--context", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.release != "rel" || opts.chart != "repo/chart" || !opts.allowUnreleased || opts.context != 5 {
		t.Fatalf("bad options %+v", opts)
	}
	want := "--repo=http://x --version 1.0.0 --reset-values=True -f=/tmp/v.yml --values /tmp/w.yml"
	if got := strings.Join(opts.helmArgs, " "); got != want {
		t.Fatalf("helm args %q, want %q", got, want)
	}
}
