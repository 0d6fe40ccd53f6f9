//! Helm's `pkg/strvals` parser for `--set`, `--set-string`, `--set-json` and `--set-file`:
//! `a.b=c,d[0]=e`, escapes with `\`, `{x,y}` lists, list indexes, `null` (with `--set`), int
//! parsing, JSON values (`--set-json`) and values read through a reader (`--set-file`).

use text_template::{Map, Value};

const MAX_INDEX: usize = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

enum Err {
    Eof,
    NotList,
    Msg(String),
}

impl From<String> for Err {
    fn from(s: String) -> Self {
        Err::Msg(s)
    }
}

/// Turns a value's text into a value (Go's `RunesValueReader`).
pub(crate) type Reader<'r> = &'r dyn Fn(&str) -> Result<Value, String>;

/// How values are read.
#[derive(Clone, Copy)]
enum Mode<'r> {
    /// `--set` (typed) or `--set-string`.
    Typed { string_values: bool },
    /// `--set-json`: each value is one JSON document.
    Json,
    /// `--set-file`: each value is handed to the reader.
    Reader(Reader<'r>),
}

struct Parser<'r> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode<'r>,
}

/// Parses one `--set` (or, with `string_values`, `--set-string`) argument into `dest`.
pub(crate) fn parse_into(s: &str, dest: &Map, string_values: bool) -> Result<(), String> {
    run(s, dest, Mode::Typed { string_values })
}

/// Parses one `--set-json` argument (`key=JSON,key2=JSON`) into `dest` (`strvals.ParseJSON`).
pub(crate) fn parse_json_into(s: &str, dest: &Map) -> Result<(), String> {
    run(s, dest, Mode::Json)
}

/// Parses one `--set-file`-style argument into `dest`, each value (a path) turned into a value
/// by `reader` (`strvals.ParseIntoFile`).
pub(crate) fn parse_file_into(s: &str, dest: &Map, reader: Reader<'_>) -> Result<(), String> {
    run(s, dest, Mode::Reader(reader))
}

/// Splits a `--set-file` argument (`key=path,key2=path2`) into (key, path) pairs: each key as
/// written (escapes kept, ready to be followed by `=`), each path unescaped. Lists of paths
/// (`key={a,b}`) are refused.
pub fn split_set_file(arg: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = arg.chars().peekable();
    while chars.peek().is_some() {
        let mut key = String::new();
        loop {
            match chars.next() {
                None => {
                    return Err(format!(
                        "key {} has no value",
                        text_template::quote_go(&key)
                    ));
                }
                Some('=') => break,
                Some('\\') => {
                    key.push('\\');
                    if let Some(c) = chars.next() {
                        key.push(c);
                    }
                }
                Some(c) => key.push(c),
            }
        }
        if chars.peek() == Some(&'{') {
            return Err(format!(
                "--set-file {}: lists of files are not supported",
                text_template::quote_go(&key)
            ));
        }
        let mut path = String::new();
        loop {
            match chars.next() {
                None | Some(',') => break,
                Some('\\') => {
                    if let Some(c) = chars.next() {
                        path.push(c);
                    }
                }
                Some(c) => path.push(c),
            }
        }
        out.push((key, path));
    }
    Ok(out)
}

/// Whether `key` is one `--set` key path (`a.b[0].c`, escapes allowed), so that `key=VALUE`
/// sets exactly one value and reads nothing else.
pub(crate) fn is_single_key(key: &str) -> bool {
    const MARK: &str = "chartimpact-set-file-value";
    let seen = std::cell::RefCell::new(Vec::new());
    let reader = |p: &str| {
        seen.borrow_mut().push(p.to_owned());
        Ok(Value::str(""))
    };
    let scratch = Map::new();
    !key.is_empty()
        && !key.starts_with('{')
        && parse_file_into(&format!("{key}={MARK}"), &scratch, &reader).is_ok()
        && *seen.borrow() == [MARK]
        && !scratch.is_empty()
}

fn run(s: &str, dest: &Map, mode: Mode<'_>) -> Result<(), String> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
        mode,
    };
    loop {
        match p.key(dest, 0) {
            Ok(()) => continue,
            Err(Err::Eof) => return Ok(()),
            Err(Err::NotList) => return Err("not a list".into()),
            Err(Err::Msg(m)) => return Err(m),
        }
    }
}

fn type_of(v: &Value) -> String {
    match v {
        Value::Nil | Value::Invalid => "nil".into(),
        Value::Int64(_) => "int64".into(),
        other => other.type_name(),
    }
}

impl Parser<'_> {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    /// `runesUntil`: (runes, the stop rune or None at EOF).
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    /// The reader: typed, string or file value (never called in JSON mode, as in Go).
    fn value(&self, v: String) -> Result<Value, Err> {
        match self.mode {
            Mode::Typed { string_values } => Ok(typed(v, string_values)),
            Mode::Json => Ok(typed(v, false)),
            Mode::Reader(r) => r(&v).map_err(Err::Msg),
        }
    }

    /// `emptyVal`: skips blanks up to and including a comma; true at a comma or the end.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => {}
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    /// A `--set-json` value after `=`: `None` for an empty one (null), else one JSON document
    /// (Go's `json.Decoder`: numbers are float64), then blanks and a comma are skipped.
    fn json_value(&mut self) -> Result<Value, Err> {
        if self.empty_val() {
            return Ok(Value::Nil);
        }
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        let v = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(Err::Msg(e.to_string())),
            None => return Err(Err::Msg("EOF".into())),
        };
        self.pos += rest[..stream.byte_offset()].chars().count();
        self.empty_val();
        Ok(from_json(v))
    }
}

/// A JSON document as the Go value `json.Unmarshal` into `interface{}` makes.
fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::list(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            let m = Map::new();
            for (k, v) in o {
                m.insert(k, from_json(v));
            }
            Value::Map(m)
        }
    }
}

/// `typedVal`.
fn typed(v: String, string_values: bool) -> Value {
    if string_values {
        return Value::str(v);
    }
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if v == "0" {
        return Value::Int64(0);
    }
    if !v.is_empty()
        && !v.starts_with('0')
        && let Some(i) = parse_go_int(&v)
    {
        return Value::Int64(i);
    }
    Value::str(v)
}

impl Parser<'_> {
    fn key(&mut self, data: &Map, mut level: usize) -> Result<(), Err> {
        let stop = ['=', '[', ',', '.'];
        let (k, last) = self.until(&stop);
        match last {
            None => {
                if k.is_empty() {
                    Err(Err::Eof)
                } else {
                    Err(Err::Msg(format!(
                        "key {} has no value",
                        text_template::quote_go(&k)
                    )))
                }
            }
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| Err::Msg(format!("error parsing index: {e}")))?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::List(l)) => l.to_vec(),
                    Some(other) => {
                        return Err(Err::Msg(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            type_of(&other)
                        )));
                    }
                };
                let (list, r) = self.list_item(list, i, level);
                set(data, &k, Value::list(list));
                r
            }
            Some('=') if matches!(self.mode, Mode::Json) => {
                let v = self.json_value()?;
                set(data, &k, v);
                Ok(())
            }
            Some('=') => match self.val_list() {
                Ok(vl) => {
                    set(data, &k, Value::list(vl));
                    Ok(())
                }
                Err(Err::Eof) => {
                    set(data, &k, Value::str(""));
                    Err(Err::Eof)
                }
                Err(Err::NotList) => {
                    let (rs, _) = self.until(&[',']);
                    match self.value(rs) {
                        Ok(v) => {
                            set(data, &k, v);
                            Ok(())
                        }
                        Err(e) => {
                            set(data, &k, Value::Nil);
                            Err(e)
                        }
                    }
                }
                Err(e) => Err(e),
            },
            Some(',') => {
                set(data, &k, Value::str(""));
                Err(Err::Msg(format!(
                    "key {} has no value (cannot end with ,)",
                    text_template::quote_go(&k)
                )))
            }
            Some(_) => {
                level += 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Err::Msg(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Map(m)) => m,
                    Some(other) => {
                        return Err(Err::Msg(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                            type_of(&other)
                        )));
                    }
                };
                let e = self.key(&inner, level);
                if e.is_ok() && inner.is_empty() {
                    return Err(Err::Msg(format!(
                        "key map {} has no value",
                        text_template::quote_go(&k)
                    )));
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Map(inner));
                }
                e
            }
        }
    }

    fn key_index(&mut self) -> Result<usize, String> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            return Err("EOF".into());
        }
        match parse_go_int(&v) {
            Some(i) if i < 0 => Err(format!("negative {i} index not allowed")),
            Some(i) => Ok(i as usize),
            None => Err(format!(
                "strconv.Atoi: parsing {}: invalid syntax",
                text_template::quote_go(&v)
            )),
        }
    }

    fn list_item(
        &mut self,
        list: Vec<Value>,
        i: usize,
        level: usize,
    ) -> (Vec<Value>, Result<(), Err>) {
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                Err(Err::Msg(format!(
                    "unexpected data at end of array index: {}",
                    text_template::quote_go(&k)
                ))),
            );
        }
        match last {
            None => (list, Err(Err::Eof)),
            Some('=') if matches!(self.mode, Mode::Json) => match self.json_value() {
                Ok(v) => set_index(list, i, v),
                Err(e) => (list, Err(e)),
            },
            Some('=') => match self.val_list() {
                Ok(vl) => set_index(list, i, Value::list(vl)),
                Err(Err::Eof) => set_index(list, i, Value::str("")),
                Err(Err::NotList) => {
                    let (rs, _) = self.until(&[',']);
                    match self.value(rs) {
                        Ok(v) => set_index(list, i, v),
                        Err(e) => (list, Err(e)),
                    }
                }
                Err(e) => (list, Err(e)),
            },
            Some('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(Err::Msg(format!("error parsing index: {e}")))),
                };
                let crt = match list.get(i).cloned() {
                    Some(Value::List(l)) => l.to_vec(),
                    Some(Value::Nil) | None => Vec::new(),
                    Some(other) => {
                        return (
                            list,
                            Err(Err::Msg(format!(
                                "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                                type_of(&other)
                            ))),
                        );
                    }
                };
                let (l2, r) = self.list_item(crt, next, level);
                if let Err(e) = r {
                    return (list, Err(e));
                }
                set_index(list, i, Value::list(l2))
            }
            Some(_) => {
                let inner = match list.get(i) {
                    Some(Value::Map(m)) => m.clone(),
                    _ => Map::new(),
                };
                if let Err(e) = self.key(&inner, level) {
                    return (list, Err(e));
                }
                set_index(list, i, Value::Map(inner))
            }
        }
    }

    fn val_list(&mut self) -> Result<Vec<Value>, Err> {
        match self.read() {
            None => return Err(Err::Eof),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Err(Err::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.until(&[',', '}']);
            match last {
                None => return Err(Err::Msg("list must terminate with '}'".into())),
                Some('}') => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread();
                    }
                    list.push(self.value(rs)?);
                    return Ok(list);
                }
                Some(_) => list.push(self.value(rs)?),
            }
        }
    }
}

fn set(data: &Map, key: &str, v: Value) {
    if !key.is_empty() {
        data.insert(key, v);
    }
}

fn set_index(mut list: Vec<Value>, i: usize, v: Value) -> (Vec<Value>, Result<(), Err>) {
    if i > MAX_INDEX {
        return (
            list,
            Err(Err::Msg(format!(
                "index of {i} is greater than maximum supported index of {MAX_INDEX}"
            ))),
        );
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Nil);
    }
    list[i] = v;
    (list, Ok(()))
}

/// `strconv.ParseInt(s, 10, 64)`.
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, st: bool) -> Result<String, String> {
        let m = Map::new();
        parse_into(s, &m, st)?;
        Ok(text_template::to_json(&Value::Map(m)))
    }

    fn json(s: &str) -> Result<String, String> {
        let m = Map::new();
        parse_json_into(s, &m)?;
        Ok(text_template::to_json(&Value::Map(m)))
    }

    #[test]
    fn set_json_like_helm() {
        assert_eq!(
            json(r#"a=[1,"x",{"b":null}],c= {"d":2.5} ,e=,f[1]=true"#).unwrap(),
            r#"{"a":[1,"x",{"b":null}],"c":{"d":2.5},"e":null,"f":[null,true]}"#
        );
        assert_eq!(json(r#"a.b="s""#).unwrap(), r#"{"a":{"b":"s"}}"#);
        assert!(json("a={x").is_err());
    }

    #[test]
    fn set_file_reads_through_the_reader() {
        let m = Map::new();
        let reader = |p: &str| Ok(Value::str(format!("({p})")));
        parse_file_into(r"a=p1,b.c[1]=p\,2,l={x,y}", &m, &reader).unwrap();
        assert_eq!(
            text_template::to_json(&Value::Map(m)),
            r#"{"a":"(p1)","b":{"c":[null,"(p,2)"]},"l":["(x)","(y)"]}"#
        );
        assert_eq!(
            split_set_file(r"a=p1,b\.c=p\,2").unwrap(),
            [
                ("a".to_string(), "p1".to_string()),
                (r"b\.c".into(), "p,2".into())
            ]
        );
        assert!(split_set_file("a={x,y}").is_err());
        assert!(split_set_file("a").is_err());
        for ok in ["a", r"a\.b", "a.b[0].c", "a[2]"] {
            assert!(is_single_key(ok), "{ok}");
        }
        for bad in ["", "a=x,b", "a,b", "{a}", "a.", "a[x]"] {
            assert!(!is_single_key(bad), "{bad}");
        }
    }

    #[test]
    fn helm_examples() {
        assert_eq!(parse("name=value", false).unwrap(), r#"{"name":"value"}"#);
        assert_eq!(
            parse("a.b=1,a.c=true,d=null,e=0,f=007,g=-3", false).unwrap(),
            r#"{"a":{"b":1,"c":true},"d":null,"e":0,"f":"007","g":-3}"#
        );
        assert_eq!(parse("a=1", true).unwrap(), r#"{"a":"1"}"#);
        assert_eq!(parse("l={a,b,c}", false).unwrap(), r#"{"l":["a","b","c"]}"#);
        assert_eq!(
            parse("l[1]=x,l[0].n=y", false).unwrap(),
            r#"{"l":[{"n":"y"},"x"]}"#
        );
        assert_eq!(parse(r"a\.b=c\,d", false).unwrap(), r#"{"a.b":"c,d"}"#);
        assert_eq!(parse("a=", false).unwrap(), r#"{"a":""}"#);
        assert_eq!(
            parse("a[x]=1", false).unwrap_err(),
            r#"error parsing index: strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(parse("a", false).unwrap_err(), r#"key "a" has no value"#);
        assert_eq!(
            parse("a,b=1", false).unwrap_err(),
            r#"key "a" has no value (cannot end with ,)"#
        );
    }
}
