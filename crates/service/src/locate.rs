//! Where a high signal comes from in a chart's files: the template line that writes the
//! changed field, and the values line whose change feeds it (check-run annotations, reference
//! R29).
//!
//! Templates are Go templates, not YAML, so they are read as lines: a key is a line whose text
//! (after its indentation and an optional `- `) is `key:`, and a field path such as
//! `spec.template.spec.containers[name=app].image` is looked for key by key, each after the
//! one before it where the template writes it (a `toYaml` block writes none of the inner
//! keys, so a key not found is skipped). Values files are YAML, read by indentation. Every
//! answer depends on the text alone: the same files give the same lines.

/// The 1-based line of `source` (one template file, maybe several documents) where the
/// signal's `field` is written in the document of a `kind` resource: the line of its last key,
/// or of the deepest key below the top level that the template writes (a block filled by
/// `toYaml`); else that document's `kind:` line; else `None`.
pub(crate) fn field_line(source: &str, kind: &str, field: Option<&str>) -> Option<u32> {
    let lines: Vec<&str> = source.lines().collect();
    let (start, end, kind_line) = document_of(&lines, kind);
    let keys = field.map(field_keys).unwrap_or_default();
    let mut from = start;
    // The deepest key of the path found so far (its depth, its line).
    let mut deepest = None;
    for (depth, key) in keys.iter().enumerate() {
        if let Some(l) = (from..end).find(|&l| is_key_line(lines[l], key)) {
            from = l + 1;
            deepest = Some((depth, l));
        }
    }
    let last = keys.len().checked_sub(1);
    let found = match deepest {
        Some((depth, l)) if Some(depth) == last => Some(l),
        // Written out of order (or after a key taken for one of its parents).
        _ => last
            .and_then(|last| (start..end).find(|&l| is_key_line(lines[l], &keys[last])))
            // A block the template fills whole (`toYaml .Values.resources`): its key, unless
            // that is only the path's top-level key (every resource writes `spec:`).
            .or(deepest.filter(|(depth, _)| *depth > 0).map(|(_, l)| l)),
    };
    found.or(kind_line).map(line_number)
}

/// The `.Values` paths that the template's lines from `line` (1-based) through its block
/// (the lines indented deeper, up to a few) read, in order of appearance, without repeats.
pub(crate) fn values_read_at(source: &str, line: u32) -> Vec<Vec<String>> {
    const MAX_BLOCK: usize = 8;
    let lines: Vec<&str> = source.lines().collect();
    let Some(first) = (line as usize).checked_sub(1).filter(|&i| i < lines.len()) else {
        return Vec::new();
    };
    let own = indent(lines[first]);
    let block = lines[first + 1..]
        .iter()
        .take(MAX_BLOCK)
        .take_while(|l| l.trim().is_empty() || indent(l) > own);
    let mut out: Vec<Vec<String>> = Vec::new();
    for text in std::iter::once(&lines[first]).chain(block) {
        for path in values_references(text) {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// The line (1-based) of key `path` in the YAML `text` and the text of its entry (the key's
/// line and the lines of its block), when the file has it.
pub(crate) fn values_key(text: &str, path: &[String]) -> Option<(u32, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut parent_indent: Option<usize> = None;
    let mut at = None;
    for key in path {
        let mut child_indent = None;
        let mut found = None;
        for (l, line) in lines.iter().enumerate().skip(from) {
            if is_blank_or_comment(line) {
                continue;
            }
            let ind = indent(line);
            if parent_indent.is_some_and(|p| ind <= p) {
                break;
            }
            let direct = *child_indent.get_or_insert(ind);
            if ind == direct && is_mapping_key(line.trim_start(), key) {
                found = Some(l);
                break;
            }
        }
        let l = found?;
        parent_indent = Some(indent(lines[l]));
        from = l + 1;
        at = Some(l);
    }
    let l = at?;
    let own = indent(lines[l]);
    let mut end = (l + 1..lines.len())
        .find(|&i| !is_blank_or_comment(lines[i]) && indent(lines[i]) <= own)
        .unwrap_or(lines.len());
    while end > l + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    Some((line_number(l), lines[l..end].join("\n")))
}

/// The keys of a field path as `diff-core` writes it: `a.b[name=x].c` → `a, b, c`;
/// `metadata.annotations["x.io/y"]` → `metadata, annotations, x.io/y`. Indexes and selectors
/// are no keys.
fn field_keys(field: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut word = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !word.is_empty() {
                    keys.push(std::mem::take(&mut word));
                }
            }
            '[' => {
                if !word.is_empty() {
                    keys.push(std::mem::take(&mut word));
                }
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut key = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => match chars.next() {
                                Some('n') => key.push('\n'),
                                Some(other) => key.push(other),
                                None => {}
                            },
                            '"' => break,
                            c => key.push(c),
                        }
                    }
                    keys.push(key);
                }
                // The rest of the bracket (a selector or an index, or the quoted key's `]`).
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        keys.push(word);
    }
    keys
}

/// The lines `[start, end)` of the first document with a `kind: <kind>` line, and that line;
/// the whole file (and no line) when none has.
fn document_of(lines: &[&str], kind: &str) -> (usize, usize, Option<usize>) {
    let Some(k) = lines.iter().position(|l| is_kind_line(l, kind)) else {
        return (0, lines.len(), None);
    };
    let start = (0..k)
        .rev()
        .find(|&l| is_document_start(lines[l]))
        .map_or(0, |l| l + 1);
    let end = (k + 1..lines.len())
        .find(|&l| is_document_start(lines[l]))
        .unwrap_or(lines.len());
    (start, end, Some(k))
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// `kind: Deployment` at the top level of a document (quotes allowed).
fn is_kind_line(line: &str, kind: &str) -> bool {
    line.strip_prefix("kind:").is_some_and(|rest| {
        let value = rest.split(" #").next().unwrap_or_default().trim();
        value.trim_matches(|c| c == '"' || c == '\'') == kind
    })
}

/// A template line that writes `key` (`key:`, `- key:`, quoted or not).
fn is_key_line(line: &str, key: &str) -> bool {
    let text = line.trim_start();
    let text = text.strip_prefix("- ").map_or(text, str::trim_start);
    is_mapping_key(text, key)
}

/// `text` (indentation removed) starts a mapping entry of `key`.
fn is_mapping_key(text: &str, key: &str) -> bool {
    let rest = [("\"", "\""), ("'", "'"), ("", "")]
        .iter()
        .find_map(|(open, close)| {
            text.strip_prefix(open)?
                .strip_prefix(key)?
                .strip_prefix(close)
        });
    rest.is_some_and(|rest| {
        let rest = rest.trim_start_matches(' ');
        rest.strip_prefix(':')
            .is_some_and(|after| after.is_empty() || after.starts_with(char::is_whitespace))
    })
}

/// `.Values.a.b` and `$.Values.a.b` references in a template line, as key paths.
fn values_references(line: &str) -> Vec<Vec<String>> {
    const MARK: &str = ".Values.";
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(after.len());
        let path: Vec<String> = after[..len]
            .split('.')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        if !path.is_empty() {
            out.push(path);
        }
        rest = &after[len..];
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = r#"{{- if .Values.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  annotations:
    "example.io/team": {{ .Values.team | quote }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            privileged: {{ .Values.privileged }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
{{- end }}
"#;

    #[test]
    fn fields_are_found_where_the_template_writes_them() {
        let at = |field: Option<&str>| field_line(DEPLOYMENT, "Deployment", field);
        assert_eq!(at(Some("spec.replicas")), Some(16));
        assert_eq!(
            at(Some("spec.template.spec.containers[name=app].image")),
            Some(21)
        );
        assert_eq!(
            at(Some(
                "spec.template.spec.containers[name=app].securityContext.privileged"
            )),
            Some(23)
        );
        assert_eq!(
            at(Some("metadata.annotations[\"example.io/team\"]")),
            Some(14)
        );
        // Inner keys of a toYaml block are not in the template: the block's key.
        assert_eq!(
            at(Some(
                "spec.template.spec.containers[name=app].resources.limits.cpu"
            )),
            Some(24)
        );
        // Not written at all, or no field: the resource's kind line.
        assert_eq!(at(Some("spec.strategy.type")), Some(10));
        assert_eq!(at(None), Some(10));
        // The Service's document, not the Deployment's.
        assert_eq!(field_line(DEPLOYMENT, "Service", Some("spec")), Some(6));
        // A kind the file does not write: nothing (the caller says line 1).
        assert_eq!(field_line(DEPLOYMENT, "Ingress", None), None);
        assert_eq!(field_line("", "Deployment", Some("spec")), None);
    }

    #[test]
    fn keys_match_whole_names_only() {
        let src = "kind: Pod\nspec:\n  containers:\n  - imagePullPolicy: Always\n    image: x\n";
        assert_eq!(
            field_line(src, "Pod", Some("spec.containers[0].image")),
            Some(5)
        );
        assert!(is_key_line("  - 'image': x", "image"));
        assert!(is_key_line("image:", "image"));
        assert!(!is_key_line("image: x", "imag"));
        assert!(!is_key_line("imagePullPolicy: x", "image"));
        assert!(!is_key_line("# image: x", "image"));
        assert!(is_kind_line("kind: \"Deployment\" # yes", "Deployment"));
        assert!(!is_kind_line("  kind: Deployment", "Deployment"));
        assert!(!is_kind_line("kind: DeploymentX", "Deployment"));
    }

    #[test]
    fn field_paths_split_into_keys() {
        assert_eq!(
            field_keys("spec.template.spec.containers[name=app,x=y].image"),
            ["spec", "template", "spec", "containers", "image"]
        );
        assert_eq!(
            field_keys(r#"metadata.labels["a.b/c\"d"].x[3]"#),
            ["metadata", "labels", "a.b/c\"d", "x"]
        );
        assert!(field_keys("").is_empty());
    }

    #[test]
    fn values_references_of_a_line_and_its_block() {
        assert_eq!(
            values_read_at(DEPLOYMENT, 21),
            [vec!["image", "repository"], vec!["image", "tag"]]
        );
        assert_eq!(values_read_at(DEPLOYMENT, 24), [vec!["resources"]]);
        assert_eq!(values_read_at(DEPLOYMENT, 16), [vec!["replicaCount"]]);
        assert!(values_read_at(DEPLOYMENT, 10).is_empty());
        assert!(values_read_at(DEPLOYMENT, 999).is_empty());
        assert!(values_read_at(DEPLOYMENT, 0).is_empty());
        assert_eq!(
            values_references("{{ $.Values.a_b.c }} {{ .Values.a_b.c }} .Values."),
            [vec!["a_b", "c"], vec!["a_b", "c"]]
        );
    }

    #[test]
    fn values_keys_are_found_by_indentation() {
        let values = "# top\nreplicaCount: 1\nimage:\n  # the registry\n  repository: nginx\n  tag: \"1.25\"\nother:\n  tag: x\nresources:\n  limits:\n    cpu: 1\n\nlast: true\n";
        let key = |p: &[&str]| {
            values_key(
                values,
                &p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(key(&["replicaCount"]), Some((2, "replicaCount: 1".into())));
        assert_eq!(key(&["image", "tag"]), Some((6, "  tag: \"1.25\"".into())));
        assert_eq!(key(&["other", "tag"]), Some((8, "  tag: x".into())));
        assert_eq!(
            key(&["resources"]),
            Some((9, "resources:\n  limits:\n    cpu: 1".into()))
        );
        // `tag` is not a key of the top level, nor `cpu` a direct child of `resources`.
        assert_eq!(key(&["tag"]), None);
        assert_eq!(key(&["resources", "cpu"]), None);
        assert_eq!(key(&["missing", "x"]), None);
        assert_eq!(key(&[]), None);
    }
}
