//! What stands between a document and async-graphql's parser and validator.
//!
//! The parser (pest, `async-graphql-parser` 7.2) recurses once per nested list, object,
//! selection set and list type without a bound of its own on values: a 4 KB document of 2,000
//! nested `[` overflows a worker thread's stack and aborts the whole process. So every
//! document is measured first by [`check_nesting`], a linear scan that counts brackets outside
//! strings, block strings and comments, and refused above [`MAX_NESTING`]. The HTTP handler
//! runs it before anything parses (after authentication); [`EdgeGuard`] runs it again for every
//! other way into the schema (the websocket `subscribe` payload).
//!
//! [`EdgeGuard`] also gives every error raised before execution an `extensions.code` and a
//! one-line message: parse errors (`GRAPHQL_PARSE_FAILED`), validation errors
//! (`GRAPHQL_VALIDATION_FAILED`, `QUERY_TOO_COMPLEX`, `QUERY_TOO_DEEP`).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
    NextSubscribe, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};
use futures::stream::BoxStream;
use futures::StreamExt;

use super::error::codes;

/// The deepest bracket nesting (`{`, `[`, `(` together) a document may have. The standard
/// introspection query nests 13; a selection `graphql.max_depth` deep with nested input
/// objects stays far below. The parser is safe well beyond it (it overflowed near 2,000).
pub const MAX_NESTING: usize = 64;

/// A document nesting brackets deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the document nests brackets more than {limit} levels deep (the limit is {limit})")]
pub struct TooDeeplyNested {
    pub limit: usize,
}

impl TooDeeplyNested {
    /// The GraphQL error a client sees.
    pub fn server_error(self) -> ServerError {
        coded(
            ServerError::new(self.to_string(), None),
            codes::QUERY_TOO_DEEP,
        )
    }
}

/// Refuses a document whose `{`/`[`/`(` nesting exceeds `limit`, in one pass over its bytes.
///
/// Brackets inside strings, block strings and comments do not count. Where the scan and the
/// parser could disagree (an unterminated string or block string), the scan counts the text as
/// if it were not a string, so it never counts less than the parser would recurse. Written by
/// hand: it must run before any parser, and no crate offers a bounded GraphQL lexer.
pub fn check_nesting(document: &str, limit: usize) -> Result<(), TooDeeplyNested> {
    let bytes = document.as_bytes();
    let len = bytes.len();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < len {
        match bytes[i] {
            b'#' => {
                while i < len && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i = match block_string_end(bytes, i + 3) {
                    Some(end) => end,
                    None => i + 3,
                };
                continue;
            }
            b'"' => {
                i = match string_end(bytes, i + 1) {
                    Some(end) => end,
                    None => i + 1,
                };
                continue;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return Err(TooDeeplyNested { limit });
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The index just past the `"""` closing a block string whose content starts at `from`.
fn block_string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    while from < bytes.len() {
        if bytes[from..].starts_with(b"\\\"\"\"") {
            from += 4;
        } else if bytes[from..].starts_with(b"\"\"\"") {
            return Some(from + 3);
        } else {
            from += 1;
        }
    }
    None
}

/// The index just past the `"` closing a string whose content starts at `from` (a string
/// cannot span lines).
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    while from < bytes.len() {
        match bytes[from] {
            b'\\' => from += 2,
            b'"' => return Some(from + 1),
            b'\n' | b'\r' => return None,
            _ => from += 1,
        }
    }
    None
}

/// Sets `extensions.code` on an error that has none.
pub fn coded(mut error: ServerError, code: &str) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

/// A parser error as one line: pest's multi-line report (`--> 1:3`, the source line, a caret,
/// `= expected …`) becomes `syntax error at line 1, column 3: expected …`.
fn one_line_parse_error(error: ServerError) -> ServerError {
    if !error.message.contains('\n') {
        return coded(error, codes::GRAPHQL_PARSE_FAILED);
    }
    let expected = error
        .message
        .lines()
        .filter_map(|l| l.trim().strip_prefix("= "))
        .next_back()
        .unwrap_or("unexpected input")
        .to_owned();
    let at = error
        .locations
        .first()
        .map(|p| format!(" at line {}, column {}", p.line, p.column))
        .unwrap_or_default();
    let mut one = ServerError::new(format!("syntax error{at}: {expected}"), None);
    one.locations = error.locations;
    one.extensions = error.extensions;
    coded(one, codes::GRAPHQL_PARSE_FAILED)
}

/// The code of a validation error: the two limits have their own.
fn validation_code(error: &ServerError) -> &'static str {
    match error.message.as_str() {
        "Query is too complex." => codes::QUERY_TOO_COMPLEX,
        "Query is nested too deep." => codes::QUERY_TOO_DEEP,
        _ => codes::GRAPHQL_VALIDATION_FAILED,
    }
}

/// The code of an error still without one when the response is complete: a request error
/// (no path: an unknown or missing operation name) failed validation; a field error is the
/// input's fault when async-graphql's input coercion raised it, else unexpected.
fn fallback_code(error: &ServerError) -> &'static str {
    if error.path.is_empty() {
        codes::GRAPHQL_VALIDATION_FAILED
    } else if error.message.starts_with("Failed to parse")
        || error.message.starts_with("Invalid value for argument")
    {
        codes::BAD_USER_INPUT
    } else {
        codes::INTERNAL
    }
}

fn code_all(mut response: Response) -> Response {
    for error in &mut response.errors {
        let code = fallback_code(error);
        *error = coded(std::mem::replace(error, ServerError::new("", None)), code);
    }
    response
}

/// Installs the nesting bound and the error codes on a schema.
pub struct EdgeGuard;

impl ExtensionFactory for EdgeGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(EdgeGuard)
    }
}

#[async_trait::async_trait]
impl Extension for EdgeGuard {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        code_all(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(code_all).boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        check_nesting(&request.query, MAX_NESTING).map_err(TooDeeplyNested::server_error)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(one_line_parse_error)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = validation_code(&e);
                    coded(e, code)
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_every_bracket_kind() {
        assert!(check_nesting("{ a { b { c } } }", 3).is_ok());
        assert!(check_nesting("{ a { b { c { d } } } }", 3).is_err());
        let lists = format!("{{ a(x: {}1{}) }}", "[".repeat(2000), "]".repeat(2000));
        assert_eq!(
            check_nesting(&lists, MAX_NESTING),
            Err(TooDeeplyNested { limit: MAX_NESTING })
        );
        let objects = format!("{{ a(x: {}) }}", "{a:".repeat(3000));
        assert!(check_nesting(&objects, MAX_NESTING).is_err());
        let types = format!(
            "query($v: {}Int{}) {{ a }}",
            "[".repeat(500),
            "]".repeat(500)
        );
        assert!(check_nesting(&types, MAX_NESTING).is_err());
        // Siblings do not add up.
        let wide = "{ a { b } }".repeat(10_000);
        assert!(check_nesting(&wide, 2).is_ok());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(100);
        for doc in [
            format!("{{ a(x: \"{deep}\") }}"),
            format!("{{ a(x: \"\\\"{deep}\") }}"),
            format!("{{ a(x: \"\"\"{deep}\n\\\"\"\"{deep}\"\"\") }}"),
            format!("{{ a # {deep}\n }}"),
        ] {
            assert!(check_nesting(&doc, 2).is_ok(), "{doc}");
        }
    }

    #[test]
    fn an_unterminated_string_does_not_hide_brackets() {
        let deep = "[".repeat(100);
        for doc in [
            format!("{{ a(x: \"{deep}"),
            format!("{{ a(x: \"x\n{deep}"),
            format!("{{ a(x: \"\"\"{deep}"),
        ] {
            assert!(check_nesting(&doc, 64).is_err(), "{doc}");
        }
    }

    #[test]
    fn parse_errors_are_one_line_with_a_code() {
        let err = async_graphql::parser::parse_query("{ a(").unwrap_err();
        let err = one_line_parse_error(ServerError::from(err));
        assert!(!err.message.contains('\n'), "{}", err.message);
        assert!(
            err.message.starts_with("syntax error at line 1"),
            "{}",
            err.message
        );
        let code = err.extensions.and_then(|e| e.get("code").cloned());
        assert_eq!(
            code,
            Some(async_graphql::Value::from(codes::GRAPHQL_PARSE_FAILED))
        );
    }
}
