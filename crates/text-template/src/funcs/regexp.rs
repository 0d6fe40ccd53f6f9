//! Sprig's regular expression functions (RE2 semantics via the `regex` crate).

use super::{FuncError, FuncMap, Sig, Ty, err, i, s};
use crate::value::Value;

fn compile(re: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(re).or_else(|e| {
        err(format!(
            "error parsing regexp: {}",
            e.to_string().lines().last().unwrap_or("")
        ))
    })
}

fn both(m: &mut FuncMap, name: &str, sig: Sig, f: fn(&[Value]) -> super::FuncResult) {
    m.add(name, sig.clone(), move |_, a| f(&a));
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    m.add(&must, sig, move |_, a| f(&a));
}

fn limit(n: i64) -> usize {
    if n < 0 { usize::MAX } else { n as usize }
}

pub(crate) fn register(m: &mut FuncMap) {
    let st = Ty::String;
    m.add("regexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(
            compile(s(&a[0]))
                .map(|r| r.is_match(s(&a[1])))
                .unwrap_or(false),
        ))
    });
    m.add("mustRegexMatch", Sig::fixed(&[st, st]), |_, a| {
        Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1]))))
    });
    both(m, "regexFindAll", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let re = compile(s(&a[0]))?;
        Ok(Value::string_list(
            re.find_iter(s(&a[1]))
                .take(limit(i(&a[2])))
                .map(|x| x.as_str()),
        ))
    });
    both(m, "regexFind", Sig::fixed(&[st, st]), |a| {
        Ok(Value::str(
            compile(s(&a[0]))?
                .find(s(&a[1]))
                .map(|x| x.as_str())
                .unwrap_or(""),
        ))
    });
    both(m, "regexReplaceAll", Sig::fixed(&[st, st, st]), |a| {
        Ok(Value::str(
            compile(s(&a[0]))?.replace_all(s(&a[1]), s(&a[2])),
        ))
    });
    both(
        m,
        "regexReplaceAllLiteral",
        Sig::fixed(&[st, st, st]),
        |a| {
            Ok(Value::str(
                compile(s(&a[0]))?.replace_all(s(&a[1]), regex::NoExpand(s(&a[2]))),
            ))
        },
    );
    both(m, "regexSplit", Sig::fixed(&[st, st, Ty::Int]), |a| {
        let re = compile(s(&a[0]))?;
        let n = i(&a[2]);
        if n == 0 {
            return Ok(Value::string_list(Vec::<String>::new()));
        }
        let parts: Vec<&str> = if n < 0 {
            re.split(s(&a[1])).collect()
        } else {
            re.splitn(s(&a[1]), n as usize).collect()
        };
        Ok(Value::string_list(parts))
    });
    m.add("regexQuoteMeta", Sig::fixed(&[st]), |_, a| {
        Ok(Value::str(regex::escape(s(&a[0]))))
    });
}
