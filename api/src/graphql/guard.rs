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
use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{
    Name, Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};
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

/// True for a character no text input may hold: C0 controls other than tab, line feed and
/// carriage return, and DEL (a NUL in a search matched everything; in a name it was stored).
fn is_refused_control(c: u32) -> bool {
    (c < 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) || c == 0x7f
}

/// The first refused control character in a string literal of the document: raw, or written
/// as a `\uXXXX` escape.
fn control_in_document(document: &str) -> Option<u32> {
    let bytes = document.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                let end = block_string_end(bytes, i + 3).unwrap_or(bytes.len());
                if let Some(&c) = bytes[i + 3..end]
                    .iter()
                    .find(|&&c| is_refused_control(c.into()))
                {
                    return Some(c.into());
                }
                i = end;
                continue;
            }
            b'"' => {
                let end = string_end(bytes, i + 1)
                    .unwrap_or(bytes.len())
                    .min(bytes.len());
                let content = &bytes[i + 1..end];
                if let Some(&c) = content.iter().find(|&&c| is_refused_control(c.into())) {
                    return Some(c.into());
                }
                let mut j = 0;
                while j < content.len() {
                    if content[j] == b'\\' {
                        if content.get(j + 1) == Some(&b'u') {
                            let hex = content
                                .get(j + 2..j + 6)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            if let Some(c) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()) {
                                if is_refused_control(c) {
                                    return Some(c);
                                }
                            }
                        }
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                i = end.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The name of the first variable holding a string with a refused control character.
fn control_in_variables(variables: &Variables) -> Option<(String, u32)> {
    fn walk(value: &Value) -> Option<u32> {
        match value {
            Value::String(s) => s.chars().map(u32::from).find(|&c| is_refused_control(c)),
            Value::List(items) => items.iter().find_map(walk),
            Value::Object(map) => map
                .iter()
                .find_map(|(k, v)| walk(&Value::String(k.to_string())).or_else(|| walk(v))),
            _ => None,
        }
    }
    variables
        .iter()
        .find_map(|(name, value)| walk(value).map(|c| (name.to_string(), c)))
}

/// The error for a control character in text input.
fn control_error(c: u32, place: &str) -> ServerError {
    coded(
        ServerError::new(
            format!("text input must not contain control characters (U+{c:04X} in {place})"),
            None,
        ),
        codes::BAD_USER_INPUT,
    )
}

/// What one root field adds to a query's cost beyond async-graphql's complexity: every root
/// field (an alias too) is at least one database query.
pub const ROOT_FIELD_COST: usize = 10;
/// Text arguments add one cost unit per this many bytes (literals and variables).
pub const TEXT_BYTES_PER_COST: usize = 100;

/// The selected operation of a document (as execution will pick it), if any.
fn selected_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

/// Measures selection depth and root fields, following fragments once each (memoized, so a
/// fragment spread many times costs nothing more to measure; a cycle counts as depth 0 and is
/// reported by validation).
struct Measure<'d> {
    doc: &'d ExecutableDocument,
    depth_memo: HashMap<&'d Name, usize>,
    roots_memo: HashMap<&'d Name, usize>,
    visiting: Vec<&'d Name>,
}

impl<'d> Measure<'d> {
    fn new(doc: &'d ExecutableDocument) -> Self {
        Measure {
            doc,
            depth_memo: HashMap::new(),
            roots_memo: HashMap::new(),
            visiting: Vec::new(),
        }
    }

    /// Depth of a selection set: 1 per level of fields. At the root, introspection fields
    /// (`__schema`, `__type`) do not count: standard tools' introspection query nests 13 deep.
    fn depth(&mut self, set: &'d SelectionSet, root: bool) -> usize {
        let mut deepest = 0;
        for selection in &set.items {
            let d = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if root && (name == "__schema" || name == "__type") {
                        0
                    } else {
                        1 + self.depth(&field.node.selection_set.node, false)
                    }
                }
                Selection::InlineFragment(f) => self.depth(&f.node.selection_set.node, root),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // Memoized per fragment at the non-root position; a root-level spread is
                    // measured directly (it is rare and shallow to recurse once).
                    if root {
                        self.fragment(name, |m, set| m.depth(set, true))
                    } else if let Some(&d) = self.depth_memo.get(name) {
                        d
                    } else {
                        let d = self.fragment(name, |m, set| m.depth(set, false));
                        if let Some((key, _)) = self.doc.fragments.get_key_value(name) {
                            self.depth_memo.insert(key, d);
                        }
                        d
                    }
                }
            };
            deepest = deepest.max(d);
        }
        deepest
    }

    /// Root fields other than introspection, fragments expanded (aliases count each).
    fn root_fields(&mut self, set: &'d SelectionSet) -> usize {
        let mut count = 0usize;
        for selection in &set.items {
            count = count.saturating_add(match &selection.node {
                Selection::Field(field) => {
                    usize::from(!field.node.name.node.as_str().starts_with("__"))
                }
                Selection::InlineFragment(f) => self.root_fields(&f.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some(&n) = self.roots_memo.get(name) {
                        n
                    } else {
                        let n = self.fragment(name, |m, set| m.root_fields(set));
                        if let Some((key, _)) = self.doc.fragments.get_key_value(name) {
                            self.roots_memo.insert(key, n);
                        }
                        n
                    }
                }
            });
        }
        count
    }

    fn fragment(
        &mut self,
        name: &'d Name,
        f: impl FnOnce(&mut Self, &'d SelectionSet) -> usize,
    ) -> usize {
        let Some(fragment) = self.doc.fragments.get(name) else {
            return 0;
        };
        if self.visiting.contains(&name) {
            return 0;
        }
        self.visiting.push(name);
        let n = f(self, &fragment.node.selection_set.node);
        self.visiting.pop();
        n
    }
}

/// The bytes of every string in the document's literals and the request's variables.
fn text_bytes(document: &str, variables: &Variables) -> usize {
    fn walk(value: &Value) -> usize {
        match value {
            Value::String(s) => s.len(),
            Value::List(items) => items.iter().map(walk).sum(),
            Value::Object(map) => map.values().map(walk).sum(),
            _ => 0,
        }
    }
    // Literals: the document's length bounds them (the body limit bounds the document).
    let literal: usize = {
        let bytes = document.as_bytes();
        let mut total = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                let end = string_end(bytes, i + 1).unwrap_or(bytes.len());
                total += end.saturating_sub(i + 2);
                i = end.max(i + 1);
            } else {
                i += 1;
            }
        }
        total
    };
    literal + variables.values().map(walk).sum::<usize>()
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
        // A value that does not fit its type (an out-of-range `Int`, a string too long for
        // its validator): the input's fault, not the document's.
        m if m.starts_with("Failed to parse") || m.starts_with("Invalid value for") => {
            codes::BAD_USER_INPUT
        }
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

/// Installs the nesting bound, the text checks, the depth and cost limits and the error codes
/// on a schema.
pub struct EdgeGuard {
    /// `graphql.max_depth`: selection depth, introspection fields not counted.
    pub max_depth: usize,
    /// `graphql.max_complexity`: async-graphql's complexity plus [`ROOT_FIELD_COST`] per root
    /// field plus one per [`TEXT_BYTES_PER_COST`] bytes of text arguments.
    pub max_cost: usize,
}

impl ExtensionFactory for EdgeGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardCheck {
            max_depth: self.max_depth,
            max_cost: self.max_cost,
            measured: Mutex::new(Measured::default()),
        })
    }
}

#[derive(Default, Clone)]
struct Measured {
    operation_name: Option<String>,
    text_bytes: usize,
    depth: usize,
    root_fields: usize,
}

/// One request's guard.
struct GuardCheck {
    max_depth: usize,
    max_cost: usize,
    measured: Mutex<Measured>,
}

impl GuardCheck {
    fn measured(&self) -> Measured {
        self.measured.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut Measured)) {
        if let Ok(mut m) = self.measured.lock() {
            f(&mut m);
        }
    }
}

impl GuardCheck {
    fn check_depth(&self, m: &Measured) -> ServerResult<()> {
        if m.depth <= self.max_depth {
            return Ok(());
        }
        Err(coded(
            ServerError::new(
                format!(
                    "Query is nested too deep: {} levels, the limit is {} (graphql.max_depth)",
                    m.depth, self.max_depth
                ),
                None,
            ),
            codes::QUERY_TOO_DEEP,
        ))
    }

    /// `complexity` is async-graphql's (0 before validation has computed it).
    fn check_cost(&self, m: &Measured, complexity: usize) -> ServerResult<()> {
        let cost = complexity
            .saturating_add(m.root_fields.saturating_mul(ROOT_FIELD_COST))
            .saturating_add(m.text_bytes / TEXT_BYTES_PER_COST);
        if cost <= self.max_cost {
            return Ok(());
        }
        Err(coded(
            ServerError::new(
                format!(
                    "Query is too complex: it costs {cost}, the limit is {} (graphql.max_complexity; {ROOT_FIELD_COST} per root field or alias, 1 per {TEXT_BYTES_PER_COST} bytes of text)",
                    self.max_cost
                ),
                None,
            ),
            codes::QUERY_TOO_COMPLEX,
        ))
    }
}

#[async_trait::async_trait]
impl Extension for GuardCheck {
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
        if let Some(c) = control_in_document(&request.query) {
            return Err(control_error(c, "a string of the document"));
        }
        if let Some((name, c)) = control_in_variables(&request.variables) {
            return Err(control_error(c, &format!("variable `{name}`")));
        }
        let text = text_bytes(&request.query, &request.variables);
        let name = request.operation_name.clone();
        self.update(|m| {
            m.text_bytes = text;
            m.operation_name = name;
        });
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(one_line_parse_error)?;
        let name = self.measured().operation_name;
        if let Some(op) = selected_operation(&doc, name.as_deref()) {
            let mut measure = Measure::new(&doc);
            let depth = measure.depth(&op.selection_set.node, true);
            let roots = measure.root_fields(&op.selection_set.node);
            self.update(|m| {
                m.depth = depth;
                m.root_fields = roots;
            });
            // Refused here, before validation walks every field, when the root fields and text
            // alone are over the limit (alias fan-out).
            let m = self.measured();
            self.check_depth(&m)?;
            self.check_cost(&m, 0)?;
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = validation_code(&e);
                    coded(e, code)
                })
                .collect::<Vec<_>>()
        })?;
        let m = self.measured();
        self.check_depth(&m).map_err(|e| vec![e])?;
        self.check_cost(&m, result.complexity)
            .map_err(|e| vec![e])?;
        Ok(result)
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
