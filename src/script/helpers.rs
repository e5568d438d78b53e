//! The global helpers scripts call: passwords, environment, CSV and JSON files, dates and logging.

use std::io::Write;
use std::path::{Path, PathBuf};

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, NativeCallContext, Position};

use crate::util::dates;
use crate::util::secret::{self, Secret};
use crate::vendors::error::located;
use crate::vendors::values;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

pub const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error"];

pub fn register(engine: &mut Engine, script_dir: &Path, vars: &[crate::script::engine::Var]) {
    register_values(engine, vars);
    register_files(engine, script_dir);
    register_time_and_log(engine);
}

/// `var_or`, `random_password`, `env`.
fn register_values(engine: &mut Engine, vars: &[crate::script::engine::Var]) {
    let given: Map = vars
        .iter()
        .map(|v| (v.name.as_str().into(), v.dynamic()))
        .collect();
    FuncRegistration::new("var_or")
        .with_params_info(["name: &str", "default: Dynamic", "Dynamic"])
        .with_comments([
            "/// The value given with `--var name=…`, or `default` when there is none:\n\
             /// `let user = var_or(\"username\", \"jdoe\");` (a --var is also a variable of its own).",
        ])
        .register_into_engine(engine, move |name: &str, default: Dynamic| {
            given.get(name).cloned().unwrap_or(default)
        });

    FuncRegistration::new("random_password")
        .with_volatility(true)
        .with_params_info(["len: i64", "Secret"])
        .with_comments([format!(
            "/// A password of `len` characters ({}–{}) from the system's cryptographic random\n\
             /// generator, with upper- and lower-case letters, a digit and a symbol. A Secret.",
            secret::PASSWORD_MIN,
            secret::PASSWORD_MAX
        )])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, len: i64| -> RhaiResult<Secret> {
                secret::random_password(usize::try_from(len).unwrap_or(0))
                    .map_err(|e| located(&ctx, fail(e)))
            },
        );

    FuncRegistration::new("env")
        .with_volatility(true)
        .with_params_info(["name: &str", "Dynamic"])
        .with_comments(["/// The environment variable `name`, or `()` when it is not set."])
        .register_into_engine(engine, |name: &str| -> Dynamic {
            std::env::var(name).map_or(Dynamic::UNIT, Dynamic::from)
        });
}

/// `read_csv` and `read_json`, confined to the script's folder and the working directory.
fn register_files(engine: &mut Engine, script_dir: &Path) {
    let dir = script_dir.to_path_buf();
    FuncRegistration::new("read_csv")
        .with_volatility(true)
        .with_params_info(["path: &str", "Array"])
        .with_comments([
            "/// The rows of a CSV file with a header row, as an array of maps (values are strings).\n\
             /// The path is relative to the script's folder; only files under it or the working\n\
             /// directory can be read.",
        ])
        .register_into_engine(engine, move |ctx: NativeCallContext, path: &str| -> RhaiResult<rhai::Array> {
            let file = allowed_path(&dir, path)
                .map_err(|e| located(&ctx, fail(format!("read_csv(\"{path}\"): {e}"))))?;
            let rows = read_csv(&file)
                .map_err(|e| located(&ctx, fail(format!("read_csv(\"{path}\"): {e}"))))?;
            Ok(rows.into_iter().map(Dynamic::from_map).collect())
        });

    let dir = script_dir.to_path_buf();
    FuncRegistration::new("read_json")
        .with_volatility(true)
        .with_params_info(["path: &str", "Dynamic"])
        .with_comments([
            "/// The contents of a JSON file as script values. The path is relative to the\n\
             /// script's folder; only files under it or the working directory can be read.",
        ])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, path: &str| -> RhaiResult<Dynamic> {
                let read = || -> Result<Dynamic, String> {
                    let file = allowed_path(&dir, path)?;
                    let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
                    let json: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
                    Ok(values::from_json(&json))
                };
                read().map_err(|e| located(&ctx, fail(format!("read_json(\"{path}\"): {e}"))))
            },
        );
}

/// `now`, `date` and `log`.
fn register_time_and_log(engine: &mut Engine) {
    FuncRegistration::new("now")
        .with_volatility(true)
        .with_params_info(["i64"])
        .with_comments(["/// The current time in Unix seconds (UTC)."])
        .register_into_engine(engine, dates::now);

    FuncRegistration::new("date")
        .with_params_info(["secs: i64", "String"])
        .with_comments([
            "/// A time in Unix seconds as a date \"YYYY-MM-DD\" (UTC): `date(now() + 90 * 86400)`.",
        ])
        .register_into_engine(engine, |secs: i64| dates::format_ymd(secs.div_euclid(86_400)));

    FuncRegistration::new("log")
        .with_volatility(true)
        .with_params_info(["level: &str", "message: Dynamic", "()"])
        .with_comments([format!(
            "/// Write a line to stderr at a level: {}. Secrets stay masked.",
            LOG_LEVELS.join(", ")
        )])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, level: &str, message: Dynamic| -> RhaiResult<()> {
                let level = level.to_ascii_lowercase();
                if !LOG_LEVELS.contains(&level.as_str()) {
                    return Err(located(
                        &ctx,
                        fail(format!(
                            "log level must be one of {}, not \"{level}\"",
                            LOG_LEVELS.join(", ")
                        )),
                    ));
                }
                log_line(&level, &message);
                Ok(())
            },
        );
    FuncRegistration::new("log")
        .with_volatility(true)
        .with_params_info(["message: Dynamic", "()"])
        .with_comments(["/// Write a line to stderr at level info. Secrets stay masked."])
        .register_into_engine(engine, |message: Dynamic| log_line("info", &message));
}

fn log_line(level: &str, message: &Dynamic) {
    let text = if message.is_string() {
        message.to_string()
    } else {
        values::display_inline(message)
    };
    let _ = writeln!(std::io::stderr().lock(), "[{level}] {text}");
}

/// The largest file `read_csv` and `read_json` read.
const MAX_READ: u64 = 128 << 20;

/// `path` resolved against the script's folder, refused if it leads outside both that folder
/// and the working directory (a shared script must not read `~/.ssh` through a helper).
pub fn allowed_path(script_dir: &Path, path: &str) -> Result<PathBuf, String> {
    let given = Path::new(path);
    let full = if given.is_absolute() {
        given.to_path_buf()
    } else {
        script_dir.join(given)
    };
    let canon = full
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let roots: Vec<PathBuf> = [Some(script_dir.to_path_buf()), std::env::current_dir().ok()]
        .into_iter()
        .flatten()
        .filter_map(|r| r.canonicalize().ok())
        .collect();
    if !roots.iter().any(|r| canon.starts_with(r)) {
        return Err(format!(
            "\"{path}\" is outside the script's folder and the working directory; \
             helpers read files only there"
        ));
    }
    // Read whole into a script's values: a file too big for them is refused before it is read.
    let size = canon.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_READ {
        return Err(format!(
            "{} is {} MiB; helpers read files of up to {} MiB",
            canon.display(),
            size >> 20,
            MAX_READ >> 20
        ));
    }
    Ok(canon)
}

/// A CSV file with a header row as maps of strings. Quoted fields, embedded commas and UTF-8
/// are handled; a leading byte-order mark is dropped; a row of the wrong width names its line.
pub fn read_csv(path: &Path) -> Result<Vec<Map>, String> {
    check_quotes(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("cannot read {}: {}", path.display(), csv_error(&e)))?;
    let headers = csv_headers(&mut reader)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let map: Map = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.as_str().into(), Dynamic::from(v.to_string())))
            .collect();
        rows.push(map);
    }
    Ok(rows)
}

/// A CSV file must not have a quoted value left open (see `unclosed_quote`).
pub fn csv_quotes_closed(path: &Path) -> Result<(), String> {
    check_quotes(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The column names of a CSV header row: trimmed, a leading byte-order mark dropped, none empty.
/// For `read_csv` and for `--each` files alike.
pub fn csv_headers<R: std::io::Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, String> {
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_string()
        })
        .collect();
    if let Some(i) = headers.iter().position(String::is_empty) {
        return Err(format!("column {} of the header row has no name", i + 1));
    }
    for (i, h) in headers.iter().enumerate() {
        if let Some(j) = headers[i + 1..].iter().position(|o| o == h) {
            return Err(format!(
                "column `{h}` appears twice in the header row (columns {} and {}): which one a row's `{h}` means cannot be told",
                i + 1,
                i + j + 2
            ));
        }
    }
    Ok(headers)
}

/// The line where a quoted CSV value opens and is never closed: the rest of the file would be
/// read as that one value, swallowing every row after it.
pub fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    let (mut line, mut at_start, mut open) = (1u64, true, None);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if open.is_some() {
            match b {
                b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => open = None,
                b'\n' => line += 1,
                _ => {}
            }
        } else {
            match b {
                b'"' if at_start => open = Some(line),
                b'\n' => line += 1,
                _ => {}
            }
            at_start = matches!(b, b',' | b'\n' | b'\r');
        }
        i += 1;
    }
    open
}

fn check_quotes(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match unclosed_quote(&bytes) {
        Some(line) => Err(format!(
            "line {line}: a quoted value starts here and is never closed, so every row after it \
             would be read as part of it; close the quote (a quote inside a quoted value is written \"\")"
        )),
        None => Ok(()),
    }
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} has {len} fields but the header has {expected_len}",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {} is not UTF-8 text",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::unclosed_quote;

    #[test]
    fn an_open_quote_is_found_at_its_line() {
        assert_eq!(unclosed_quote(b"a,b\n\"x\ny\",2\n3,4\n"), None);
        assert_eq!(unclosed_quote(b"a,b\n1,\"say \"\"hi\"\"\"\n"), None);
        assert_eq!(unclosed_quote(b"a,b\n1,2\n\"open,3\n4,5\n"), Some(3));
        assert_eq!(
            unclosed_quote(b"a,b\n1,x\"y\n"),
            None,
            "a quote inside a value is literal"
        );
    }
}
