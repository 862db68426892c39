//! Google's partial response: the `fields` parameter every Google API takes keeps only
//! the fields it names. The syntax, from Google's performance guides ("Partial
//! response", e.g. https://developers.google.com/display-video/api/guides/how-tos/performance):
//! fields separated by commas, `a/b` for field `b` of field `a`, `a(b,c)` for fields
//! `b` and `c` of `a`; a selection applies to each element of an array.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::{Map, Value};
use wiremock::{Request, Respond, ResponseTemplate};

/// What a selection keeps of an object: each named field, whole (`None`) or only its
/// own selection.
#[derive(Default)]
struct Selection(BTreeMap<String, Option<Selection>>);

impl Selection {
    fn parse(fields: &str) -> Selection {
        let mut selection = Selection::default();
        for item in top_level(fields) {
            let (path, inner) = match item.split_once('(') {
                Some((path, rest)) => {
                    let inner = rest.strip_suffix(')').expect("a sub-selection ends with )");
                    (path, Some(Selection::parse(inner)))
                }
                None => (item, None),
            };
            selection.add(&path.split('/').collect::<Vec<_>>(), inner);
        }
        selection
    }

    fn add(&mut self, path: &[&str], inner: Option<Selection>) {
        let name = path[0].trim().to_string();
        if path.len() == 1 {
            self.0.insert(name, inner);
            return;
        }
        let child = self
            .0
            .entry(name)
            .or_insert_with(|| Some(Selection::default()));
        // a field named whole stays whole
        if let Some(child) = child {
            child.add(&path[1..], inner);
        }
    }

    fn apply(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|v| self.apply(v)).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter_map(|(name, value)| {
                        let kept = self.0.get(name)?;
                        Some((
                            name.clone(),
                            kept.as_ref().map_or(value.clone(), |s| s.apply(value)),
                        ))
                    })
                    .collect::<Map<_, _>>(),
            ),
            other => other.clone(),
        }
    }
}

/// The items of a comma-separated list, commas inside parentheses left alone.
fn top_level(fields: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in fields.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&fields[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&fields[start..]);
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .collect()
}

/// `body` cut down to the `fields` the request names, as Google answers; whole when it
/// names none.
pub fn select(request: &Request, body: Value) -> Value {
    match fields_of(request) {
        Some(fields) => cut(&body, &fields),
        None => body,
    }
}

fn fields_of(request: &Request) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(name, _)| name == "fields")
        .map(|(_, fields)| fields.into_owned())
}

/// What of `body` the selection `fields` keeps.
pub fn cut(body: &Value, fields: &str) -> Value {
    Selection::parse(fields).apply(body)
}

/// An answer of `body` cut down to the request's `fields`.
pub struct Partial {
    body: Value,
    template: ResponseTemplate,
    /// Each selection's answer, written once: cutting and writing a day of minutes takes
    /// milliseconds, which the benchmark would count as the client's.
    answers: Mutex<HashMap<Option<String>, Vec<u8>>>,
}

impl Partial {
    pub fn new(body: Value, template: ResponseTemplate) -> Self {
        Partial {
            body,
            template,
            answers: Mutex::default(),
        }
    }
}

impl Respond for Partial {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut answers = self.answers.lock().unwrap();
        let answer = answers
            .entry(fields_of(request))
            .or_insert_with(|| serde_json::to_vec(&select(request, self.body.clone())).unwrap());
        self.template
            .clone()
            .set_body_raw(answer.clone(), "application/json")
    }
}
