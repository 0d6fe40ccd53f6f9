//! Parses every template of every chart in the corpus and reports unknown functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use text_template::{FuncMap, TemplateSet};

/// The corpus (`tests/data/corpus`, or `CHARTIMPACT_CORPUS`); missing data fails the test.
fn corpus_dir() -> PathBuf {
    let dir = match std::env::var("CHARTIMPACT_CORPUS") {
        Ok(d) => PathBuf::from(d),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/corpus"),
    };
    assert!(
        dir.join("cases").is_dir(),
        "the test corpus is missing at {}: it is part of the repository (tests/data/corpus); restore it with git, or point CHARTIMPACT_CORPUS at a copy",
        dir.display()
    );
    dir
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every file under a `templates/` directory of a chart side (subcharts included).
fn template_files(side: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(side, &mut all);
    all.into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "templates"))
        .filter(|p| !p.to_string_lossy().ends_with(".tgz"))
        .collect()
}

#[test]
fn corpus_templates_parse_and_use_known_functions() {
    let dir = corpus_dir();
    let known = FuncMap::helm();
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut parse_errors = Vec::new();
    let mut files = 0;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    for case in cases {
        for side in ["before", "after"] {
            let side_dir = case.join(side);
            let mut set = TemplateSet::helm();
            for f in template_files(&side_dir) {
                let Ok(text) = std::fs::read_to_string(&f) else {
                    continue;
                };
                files += 1;
                let name = f
                    .strip_prefix(&side_dir)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                if let Err(e) = set.parse(&name, &text) {
                    let msg = e.to_string();
                    if let Some(fname) = msg
                        .split("function \"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        && !known.contains(fname)
                    {
                        unknown
                            .entry(fname.to_string())
                            .or_default()
                            .push(f.display().to_string());
                        continue;
                    }
                    parse_errors.push(format!("{}: {msg}", f.display()));
                }
            }
        }
    }
    println!("corpus: {files} template files parsed");
    for (f, where_) in &unknown {
        println!(
            "unimplemented function {f}: {} files, e.g. {}",
            where_.len(),
            where_[0]
        );
    }
    assert!(
        unknown.is_empty(),
        "unimplemented functions: {:?}",
        unknown.keys().collect::<Vec<_>>()
    );
    assert!(
        parse_errors.is_empty(),
        "parse errors:\n{}",
        parse_errors.join("\n")
    );
}

/// Every name in Sprig v3.3.0's `genericMap` (functions.go).
const SPRIG_FUNCTIONS: &[&str] = &[
    "abbrev",
    "abbrevboth",
    "add",
    "add1",
    "add1f",
    "addf",
    "adler32sum",
    "ago",
    "all",
    "any",
    "append",
    "atoi",
    "b32dec",
    "b32enc",
    "b64dec",
    "b64enc",
    "base",
    "bcrypt",
    "biggest",
    "buildCustomCert",
    "camelcase",
    "cat",
    "ceil",
    "chunk",
    "clean",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "date",
    "dateInZone",
    "dateModify",
    "date_in_zone",
    "date_modify",
    "decryptAES",
    "deepCopy",
    "deepEqual",
    "default",
    "derivePassword",
    "dict",
    "dig",
    "dir",
    "div",
    "divf",
    "duration",
    "durationRound",
    "empty",
    "encryptAES",
    "env",
    "expandenv",
    "ext",
    "fail",
    "first",
    "float64",
    "floor",
    "fromJson",
    "genCA",
    "genCAWithKey",
    "genPrivateKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "get",
    "getHostByName",
    "has",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "hello",
    "htmlDate",
    "htmlDateInZone",
    "htpasswd",
    "indent",
    "initial",
    "initials",
    "int",
    "int64",
    "isAbs",
    "join",
    "kebabcase",
    "keys",
    "kindIs",
    "kindOf",
    "last",
    "list",
    "lower",
    "max",
    "maxf",
    "merge",
    "mergeOverwrite",
    "min",
    "minf",
    "mod",
    "mul",
    "mulf",
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDateModify",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToDate",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustUniq",
    "mustWithout",
    "must_date_modify",
    "nindent",
    "nospace",
    "now",
    "omit",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "pick",
    "pluck",
    "plural",
    "prepend",
    "quote",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randBytes",
    "randInt",
    "randNumeric",
    "regexFind",
    "regexFindAll",
    "regexMatch",
    "regexQuoteMeta",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
    "repeat",
    "replace",
    "rest",
    "reverse",
    "round",
    "semver",
    "semverCompare",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shuffle",
    "slice",
    "snakecase",
    "sortAlpha",
    "split",
    "splitList",
    "splitn",
    "squote",
    "sub",
    "subf",
    "substr",
    "swapcase",
    "ternary",
    "title",
    "toDate",
    "toDecimal",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "toString",
    "toStrings",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "trimall",
    "trunc",
    "tuple",
    "typeIs",
    "typeIsLike",
    "typeOf",
    "uniq",
    "unixEpoch",
    "unset",
    "until",
    "untilStep",
    "untitle",
    "upper",
    "urlJoin",
    "urlParse",
    "uuidv4",
    "values",
    "without",
    "wrap",
    "wrapWith",
];

/// Helm 3.17's additions (pkg/engine/funcs.go and engine.go).
const HELM_FUNCTIONS: &[&str] = &[
    "toToml",
    "fromToml",
    "toYaml",
    "mustToYaml",
    "toYamlPretty",
    "fromYaml",
    "fromYamlArray",
    "toJson",
    "fromJson",
    "fromJsonArray",
    "include",
    "tpl",
    "required",
    "fail",
    "lookup",
    "getHostByName",
];

#[test]
fn sprig_and_helm_function_maps_are_complete() {
    let known = FuncMap::helm();
    let missing: Vec<&str> = SPRIG_FUNCTIONS
        .iter()
        .chain(HELM_FUNCTIONS)
        .copied()
        .filter(|f| !matches!(*f, "env" | "expandenv"))
        .filter(|f| !known.contains(f))
        .collect();
    assert!(missing.is_empty(), "missing functions: {missing:?}");
    assert!(
        !known.contains("env") && !known.contains("expandenv"),
        "Helm removes env and expandenv"
    );
}
