//! Helm's `pkg/strvals` parser for `--set` and `--set-string`: `a.b=c,d[0]=e`, escapes with
//! `\`, `{x,y}` lists, list indexes, `null` (with `--set`) and int parsing.

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

struct Parser {
    chars: Vec<char>,
    pos: usize,
    string_values: bool,
}

/// Parses one `--set` (or, with `string_values`, `--set-string`) argument into `dest`.
pub(crate) fn parse_into(s: &str, dest: &Map, string_values: bool) -> Result<(), String> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
        string_values,
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

impl Parser {
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

    fn typed(&self, v: String) -> Value {
        if self.string_values {
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
                    let v = self.typed(rs);
                    set(data, &k, v);
                    Ok(())
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
            Some('=') => match self.val_list() {
                Ok(vl) => set_index(list, i, Value::list(vl)),
                Err(Err::Eof) => set_index(list, i, Value::str("")),
                Err(Err::NotList) => {
                    let (rs, _) = self.until(&[',']);
                    let v = self.typed(rs);
                    set_index(list, i, v)
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
                    list.push(self.typed(rs));
                    return Ok(list);
                }
                Some(_) => list.push(self.typed(rs)),
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
