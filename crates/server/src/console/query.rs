//! A page's address and query string, and links that change one parameter and keep the
//! rest: everything a page without JavaScript needs to sort, filter, page and export.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

/// Longest query string read; past it, parameters are dropped rather than the request
/// refused (a page works with its defaults).
const MAX_QUERY_BYTES: usize = 4096;

/// The path and query parameters of the request a page answers.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    path: String,
    params: Vec<(String, String)>,
}

impl PageQuery {
    pub fn parse(path: &str, query: Option<&str>) -> PageQuery {
        let params = query
            .filter(|q| q.len() <= MAX_QUERY_BYTES)
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default();
        PageQuery {
            path: path.to_owned(),
            params,
        }
    }

    /// The request's own address: the console is nested under `/console`, and the nested
    /// router sees its path without that prefix, so links are built from the original.
    pub fn of(parts: &Parts) -> PageQuery {
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        PageQuery::parse(uri.path(), uri.query())
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A number parameter within `range`, else `default` (a bad value is not an error: the
    /// page shows its default).
    pub fn number(&self, name: &str, range: std::ops::RangeInclusive<u64>, default: u64) -> u64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .filter(|n| range.contains(n))
            .unwrap_or(default)
    }

    /// This page's address with `changes` applied (`None` removes a parameter); the
    /// language switch and the export format are never carried over.
    pub fn href(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(k, _)| {
                k != "lang" && k != "format" && k != "table" && !changes.iter().any(|(c, _)| c == k)
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.extend(changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
        with_query(&self.path, &params)
    }

    /// The parameters other than `except`, for hidden inputs of a GET form that changes
    /// only those.
    pub fn keep(&self, except: &[&str]) -> Vec<(String, String)> {
        self.params
            .iter()
            .filter(|(k, _)| {
                k != "lang" && k != "format" && k != "table" && !except.contains(&k.as_str())
            })
            .cloned()
            .collect()
    }
}

/// `path?a=1&b=2`, percent-encoded; just `path` with no parameters.
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    match serde_urlencoded::to_string(params) {
        Ok(q) => format!("{path}?{q}"),
        Err(_) => path.to_owned(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(PageQuery::of(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_change_one_parameter_and_keep_the_rest() {
        let q = PageQuery::parse("/console/audit", Some("actor=user%3Aa&page=3&lang=en"));
        assert_eq!(q.get("actor"), Some("user:a"));
        assert_eq!(
            q.href(&[("page", Some("4"))]),
            "/console/audit?actor=user%3Aa&page=4"
        );
        assert_eq!(q.href(&[("page", None)]), "/console/audit?actor=user%3Aa");
        assert_eq!(q.number("page", 1..=10, 1), 3);
        assert_eq!(q.number("actor", 1..=10, 1), 1);
        assert_eq!(q.keep(&["page"]), vec![("actor".into(), "user:a".into())]);
    }

    #[test]
    fn hostile_queries_fall_back_to_defaults() {
        let q = PageQuery::parse("/p", Some("page=%FF%FE&x=<script>"));
        assert_eq!(q.number("page", 1..=10, 1), 1);
        let q = PageQuery::parse("/p", Some(&"a=b&".repeat(2000)));
        assert_eq!(q.get("a"), None);
        assert_eq!(q.href(&[]), "/p");
    }
}
