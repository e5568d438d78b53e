//! CyberArk's error answers, in PVWA's and IIS's own shapes.

use serde_json::{Value as Json, json};

use crate::sim::{SimRequest, SimResponse};

pub(super) fn error(status: u16, code: &str, message: &str) -> SimResponse {
    SimResponse::json(status, &json!({ "ErrorCode": code, "ErrorMessage": message }))
}

pub(super) fn invalid(details: Vec<String>) -> SimResponse {
    let details: Vec<Json> = details
        .iter()
        .map(|d| json!({ "ErrorCode": "PASWS167E", "ErrorMessage": d }))
        .collect();
    SimResponse::json(
        400,
        &json!({ "ErrorCode": "PASWS167E", "ErrorMessage": "There are some invalid parameters", "Details": details }),
    )
}

pub(super) fn user_not_found(which: &str) -> SimResponse {
    error(404, "ITATS003E", &format!("User [{which}] was not found."))
}

pub(super) fn not_found(req: &SimRequest) -> SimResponse {
    SimResponse::json(
        404,
        &json!({ "Message": format!("No HTTP resource was found that matches the request URI '{}'.", req.path) }),
    )
}
