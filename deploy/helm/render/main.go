// helm-render renders a Helm chart's templates the way `helm template` does, for the chart's tests
// on machines where helm itself cannot be installed. It is Go's text/template with the sprig
// function library (what helm uses) and helm's own functions that the chart calls: include, tpl,
// toYaml, fromYaml, required, and lookup (which, as in `helm template`, finds nothing); .Values is
// the chart's values.yaml with each -f file merged over it as helm merges them (maps key by key, a
// null removes a key), beside .Release, .Chart, .Template and .Capabilities.
//
// It is not helm: no subcharts, no hooks, no --set, no values.schema.json check (the tests check
// the values against it themselves). Built against Debian's Go packages, offline (GOPATH mode, so
// sprig is imported without its /v3 module suffix):
//
//	cd deploy/helm/render && GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/helm-render .
//
// usage: helm-render [-f values.yaml]... [--name RELEASE] [--namespace NS] CHART_DIR
// It writes every rendered manifest to stdout, each after "---" and a "# Source: " line, and exits
// 1 with the template's error (a `required` value missing, say) on stderr.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var files valueFiles
	flag.Var(&files, "f", "a values file merged over the chart's values.yaml (repeatable)")
	name := flag.String("name", "edgehub", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [-f values.yaml]... [--name RELEASE] [--namespace NS] CHART_DIR")
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), files, *name, *namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

func readYaml(path string) (map[string]interface{}, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// merge puts src over dst as helm does: maps merge key by key, anything else replaces, and a null
// in src deletes the key.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

func toYaml(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func render(chartDir string, files []string, name, namespace string) (string, error) {
	chart, err := readYaml(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readYaml(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range files {
		over, err := readYaml(f)
		if err != nil {
			return "", err
		}
		values = merge(values, over)
	}
	paths, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(paths)

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	// helm template has no cluster to ask either: lookup finds nothing
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) map[string]interface{} {
		return map[string]interface{}{}
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs).Option("missingkey=zero")

	basePath := fmt.Sprintf("%v/templates", chart["name"])
	var manifests []string
	for _, p := range paths {
		base := filepath.Base(p)
		if !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".tpl") {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		// named as helm names them: include (print $.Template.BasePath "/x.yaml") finds them
		if _, err := root.New(basePath + "/" + base).Parse(string(raw)); err != nil {
			return "", err
		}
		if !strings.HasPrefix(base, "_") {
			manifests = append(manifests, basePath+"/"+base)
		}
	}

	data := map[string]interface{}{
		"Values": values,
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
		},
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "Major": "1", "Minor": "30"},
		},
	}
	var out strings.Builder
	for _, m := range manifests {
		data["Template"] = map[string]interface{}{"Name": m, "BasePath": basePath}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, m, data); err != nil {
			return "", err
		}
		// helm drops "<no value>" and documents that are only whitespace or comments
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for _, doc := range strings.Split(text, "\n---") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m, strings.Trim(strings.TrimPrefix(doc, "---"), "\n"))
		}
	}
	return out.String(), nil
}

func stripComments(doc string) string {
	var keep []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
