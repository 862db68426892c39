//! Arbitrary server answers for the property tests of the response parsers: mostly
//! mutations of real example bodies (so that they reach the deep paths, not only the
//! first "not what I expected"), and any JSON and any bytes.

use proptest::prelude::*;
use serde_json::Value;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _\n\r]{0,16}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // infinities and NaN become null, as JSON has no such numbers
        any::<f64>().prop_map(Value::from),
        any::<i64>().prop_map(|n| Value::from(n.to_string())),
        "-?[0-9]{1,25}(\\.[0-9]{1,3})?s?".prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep.
pub fn json() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..5)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Values shaped like `example`: every field kept or dropped, every value kept or
/// replaced, arrays of 0 to 3 variations of their first item, sometimes a whole subtree
/// replaced by any JSON.
pub fn like(example: Value) -> BoxedStrategy<Value> {
    let shaped = match example {
        Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| {
                prop::option::weighted(0.85, like(value).prop_map(move |v| (key.clone(), v)))
            })
            .collect::<Vec<_>>()
            .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
            .boxed(),
        Value::Array(items) => match items.into_iter().next() {
            Some(item) => prop::collection::vec(like(item), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            None => json(),
        },
        leaf => prop_oneof![Just(leaf), scalar()].boxed(),
    };
    prop_oneof![9 => shaped, 1 => json()].boxed()
}

/// A body like `example`, or any JSON, or any bytes.
pub fn body_like(example: Value) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        8 => like(example).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
    .boxed()
}
