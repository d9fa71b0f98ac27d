// Command diff is the lab's stand-in for the helm-diff plugin, whose module the Go proxy here does
// not serve. It implements what kubernetes.core.helm relies on:
//
//	helm diff version
//	helm diff upgrade RELEASE CHART [helm upgrade flags] [--allow-unreleased] [--show-secrets]
//	                                [--no-hooks] [--context N] [--detailed-exitcode] [--dry-run=server]
//
// It prints nothing when the release would not change, and a per-resource diff otherwise. The
// rendering is real helm (`helm upgrade --install --dry-run -o json`), the current state is
// `helm get manifest/hooks`; Secret values are masked unless --show-secrets is given.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

var version = "dev" // set with -ldflags "-X main.version=..."

// helmValueFlags are `helm upgrade` flags that take a separate value argument; they are passed on.
var helmValueFlags = map[string]bool{
	"--repo": true, "--version": true, "--values": true, "-f": true, "--set": true, "--set-string": true,
	"--set-file": true, "--set-json": true, "--set-literal": true, "--post-renderer": true,
	"--post-renderer-args": true, "--username": true, "--password": true, "--ca-file": true,
	"--cert-file": true, "--key-file": true, "--timeout": true, "--description": true,
	"--kube-version": true, "--api-versions": true, "-a": true,
}

type options struct {
	release, chart  string
	helmArgs        []string
	allowUnreleased bool
	showSecrets     bool
	noHooks         bool
	detailedExit    bool
	dryRunServer    bool
	context         int
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "version", "--version":
		fmt.Println(version)
	case "upgrade":
		opts, err := parseArgs(os.Args[2:])
		if err != nil {
			fail(err)
		}
		changed, err := run(opts)
		if err != nil {
			fail(err)
		}
		if changed && opts.detailedExit {
			os.Exit(2)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: helm diff version | helm diff upgrade RELEASE CHART [flags]")
	os.Exit(1)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

func boolValue(val string, hasVal bool) (bool, error) {
	if !hasVal {
		return true, nil
	}
	return strconv.ParseBool(val)
}

func parseArgs(args []string) (options, error) {
	opts := options{context: 10}
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") {
			positional = append(positional, arg)
			continue
		}
		name, val, hasVal := strings.Cut(arg, "=")
		var err error
		switch name {
		case "--allow-unreleased":
			opts.allowUnreleased, err = boolValue(val, hasVal)
		case "--show-secrets":
			opts.showSecrets, err = boolValue(val, hasVal)
		case "--no-hooks":
			opts.noHooks, err = boolValue(val, hasVal)
		case "--detailed-exitcode":
			opts.detailedExit, err = boolValue(val, hasVal)
		case "--suppress-secrets", "--three-way-merge", "--normalize-manifests", "--include-tests",
			"--strip-trailing-cr", "--disable-validation", "--disable-openapi-validation", "--no-color",
			"--color", "--install":
			// accepted for compatibility; masking is the default here
		case "--dry-run":
			opts.dryRunServer = val == "server"
		case "--context", "-C", "--output", "--suppress", "--find-renames":
			if !hasVal {
				if i+1 >= len(args) {
					return opts, fmt.Errorf("flag %s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name != "--context" && name != "-C" {
				break
			}
			opts.context, err = strconv.Atoi(val)
		default:
			opts.helmArgs = append(opts.helmArgs, arg)
			if !hasVal && helmValueFlags[name] && i+1 < len(args) {
				i++
				opts.helmArgs = append(opts.helmArgs, args[i])
			}
		}
		if err != nil {
			return opts, fmt.Errorf("flag %s: %w", name, err)
		}
	}
	if len(positional) != 2 {
		return opts, fmt.Errorf("upgrade needs RELEASE and CHART, got %d arguments", len(positional))
	}
	opts.release, opts.chart = positional[0], positional[1]
	return opts, nil
}

func helmBin() string {
	if bin := os.Getenv("HELM_BIN"); bin != "" {
		return bin
	}
	return "helm"
}

// helm runs the helm binary (global settings come through HELM_* variables) and returns stdout.
func helm(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helmBin(), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func currentManifest(opts options) (string, error) {
	manifest, err := helm("get", "manifest", opts.release)
	if err != nil {
		if strings.Contains(err.Error(), "release: not found") && opts.allowUnreleased {
			return "", nil
		}
		return "", err
	}
	if !opts.noHooks {
		hooks, err := helm("get", "hooks", opts.release)
		if err != nil {
			return "", err
		}
		manifest += "\n---\n" + hooks
	}
	return manifest, nil
}

func renderedManifest(opts options) (string, error) {
	dryRun := "--dry-run=client"
	if opts.dryRunServer {
		dryRun = "--dry-run=server"
	}
	args := append([]string{"upgrade", opts.release, opts.chart, "--install", dryRun, "--output", "json"},
		opts.helmArgs...)
	out, err := helm(args...)
	if err != nil {
		return "", err
	}
	var release struct {
		Manifest string `json:"manifest"`
		Hooks    []struct {
			Manifest string `json:"manifest"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(out), &release); err != nil {
		return "", fmt.Errorf("cannot read helm's dry-run output: %w", err)
	}
	manifest := release.Manifest
	if !opts.noHooks {
		for _, hook := range release.Hooks {
			manifest += "\n---\n" + hook.Manifest
		}
	}
	return manifest, nil
}

func run(opts options) (bool, error) {
	oldText, err := currentManifest(opts)
	if err != nil {
		return false, err
	}
	newText, err := renderedManifest(opts)
	if err != nil {
		return false, err
	}
	namespace := os.Getenv("HELM_NAMESPACE")
	if namespace == "" {
		namespace = "default"
	}
	oldDocs, err := parseManifest(oldText, namespace)
	if err != nil {
		return false, err
	}
	newDocs, err := parseManifest(newText, namespace)
	if err != nil {
		return false, err
	}
	report, err := diffReleases(oldDocs, newDocs, opts.showSecrets, opts.context)
	if err != nil {
		return false, err
	}
	fmt.Print(report)
	return report != "", nil
}
