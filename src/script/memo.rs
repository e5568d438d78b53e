//! Requests validated by a row's offline check, handed to the row's run when it makes the very
//! same call: a bulk row's request is validated once, not twice.
//!
//! The check runs the row's script without sending, validating each call's map; the run that
//! follows makes the same calls with the same maps unless an answer steers it elsewhere. A
//! call of the run takes the check's next request for its row only when the vendor's request
//! and every value of the map are the same; anything else (a value the check did not know, a
//! type compared here as never equal) is validated again, as it would be without this.

use std::cell::{Cell, RefCell};

use rhai::{Array, Dynamic, Map};

use crate::journal::current_row;
use crate::util::secret::Secret;
use crate::vendors::schema::{Request, RequestSpec};

struct Kept {
    row: u64,
    spec: &'static RequestSpec,
    map: Map,
    request: Request,
}

thread_local! {
    /// Whether the check running on this thread keeps what it validates.
    static KEEPING: Cell<Option<u64>> = const { Cell::new(None) };
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` (the offline check of `row`) keeping every request it validates for the row's run.
/// The check never waits for a vendor, so nothing else runs on this thread meanwhile.
pub fn keeping<R>(row: u64, f: impl FnOnce() -> R) -> R {
    let was = KEEPING.with(|k| k.replace(Some(row)));
    let out = f();
    KEEPING.with(|k| k.set(was));
    out
}

/// `map` validated against `spec` by `validate`: kept when a check is keeping, or the check's
/// request when this is the row's run making the check's next call with the same map.
pub fn validate_once<E>(
    spec: &'static RequestSpec,
    map: Map,
    validate: impl FnOnce(&Map) -> Result<Request, E>,
) -> Result<Request, E> {
    if let Some(row) = KEEPING.with(Cell::get) {
        let request = validate(&map)?;
        let kept = Kept {
            row,
            spec,
            map,
            request: request.clone(),
        };
        KEPT.with(|k| k.borrow_mut().push(kept));
        return Ok(request);
    }
    if let Some(row) = current_row()
        && let Some(request) = take(row, spec, &map)
    {
        return Ok(request);
    }
    validate(&map)
}

/// The check's next request for `row`, if it was made for this vendor's request from the same
/// map. Taken either way: a call that differs means the run has gone its own way.
fn take(row: u64, spec: &'static RequestSpec, map: &Map) -> Option<Request> {
    KEPT.with(|k| {
        let mut kept = k.borrow_mut();
        let at = kept.iter().position(|e| e.row == row)?;
        let e = kept.remove(at);
        (std::ptr::eq(e.spec, spec) && same_map(&e.map, map)).then_some(e.request)
    })
}

/// Drop what is kept for `row`: its run has ended, or it was refused.
pub fn forget(row: u64) {
    KEPT.with(|k| k.borrow_mut().retain(|e| e.row != row));
}

fn same_map(a: &Map, b: &Map) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

fn same_array(a: &Array, b: &Array) -> bool {
    a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| same_value(x, y))
}

/// Equal values of the types a request is made of; any other type is never the same.
fn same_value(a: &Dynamic, b: &Dynamic) -> bool {
    if a.is_string() && b.is_string() {
        return match (a.as_immutable_string_ref(), b.as_immutable_string_ref()) {
            (Ok(x), Ok(y)) => *x == *y,
            _ => false,
        };
    }
    if a.type_id() != b.type_id() {
        return false;
    }
    if a.is_unit() {
        return true;
    }
    if a.is_int() {
        return a.as_int().ok() == b.as_int().ok();
    }
    if a.is_bool() {
        return a.as_bool().ok() == b.as_bool().ok();
    }
    if a.is_char() {
        return a.as_char().ok() == b.as_char().ok();
    }
    if a.is_map() {
        return match (a.read_lock::<Map>(), b.read_lock::<Map>()) {
            (Some(x), Some(y)) => same_map(&x, &y),
            _ => false,
        };
    }
    if a.is_array() {
        return match (a.read_lock::<Array>(), b.read_lock::<Array>()) {
            (Some(x), Some(y)) => same_array(&x, &y),
            _ => false,
        };
    }
    match (a.read_lock::<Secret>(), b.read_lock::<Secret>()) {
        (Some(x), Some(y)) => *x == *y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::vendors::validate::test_map as map;

    /// The run's call is handed the check's request only for the same row, vendor request and
    /// map, once; a call that differs, or a second call, is validated again.
    #[test]
    fn a_run_takes_its_checks_request_only_for_the_very_same_call() {
        use crate::vendors::UserApi;
        let spec = crate::vendors::pam360::Pam360::spec().create;
        let other = crate::vendors::appmanager::AppManager::spec().create;
        let validated = Cell::new(0);
        let validate = |m: &Map| {
            validated.set(validated.get() + 1);
            crate::vendors::validate::validate(spec, m).map_err(|_| ())
        };
        let jo = map(&[
            ("username", "jo".into()),
            ("first_name", "Jo".into()),
            ("last_name", "Ng".into()),
            ("email", "jo@example.com".into()),
        ]);
        keeping(7, || validate_once(spec, jo.clone(), validate)).expect("valid");
        assert_eq!(validated.get(), 1);
        crate::journal::set_current_row(Some(8));
        validate_once(spec, jo.clone(), validate).expect("valid");
        assert_eq!(validated.get(), 2, "another row's request is not taken");
        crate::journal::set_current_row(Some(7));
        validate_once(other, jo.clone(), |_| Err(())).expect_err("another vendor validates");
        keeping(7, || validate_once(spec, jo.clone(), validate)).expect("valid");
        let before = validated.get();
        let taken = validate_once(spec, jo.clone(), validate).expect("taken");
        assert_eq!(
            validated.get(),
            before,
            "the same call is not validated again"
        );
        assert_eq!(taken.username(), "jo");
        validate_once(spec, jo.clone(), validate).expect("valid");
        assert_eq!(validated.get(), before + 1, "taken once only");
        forget(7);
        crate::journal::set_current_row(None);
    }

    #[test]
    fn only_the_very_same_values_are_the_same() {
        let a = map(&[("username", "jo".into()), ("n", Dynamic::from(3_i64))]);
        assert!(same_map(&a, &a.clone()));
        let text_three = map(&[("username", "jo".into()), ("n", "3".into())]);
        assert!(!same_map(&a, &text_three));
        let other = map(&[("username", "jo2".into()), ("n", Dynamic::from(3_i64))]);
        assert!(!same_map(&a, &other));
        let more = map(&[
            ("username", "jo".into()),
            ("n", Dynamic::from(3_i64)),
            ("x", ().into()),
        ]);
        assert!(!same_map(&a, &more));
        let nested = |s: &str| map(&[("inner", Dynamic::from_map(map(&[("k", s.into())])))]);
        assert!(same_map(&nested("v"), &nested("v")));
        assert!(!same_map(&nested("v"), &nested("w")));
        // A float is not a request's type here: never taken as the same.
        let f = map(&[("f", Dynamic::from(1.5_f64))]);
        assert!(!same_map(&f, &f.clone()));
    }
}
