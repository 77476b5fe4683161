//! The delivery configuration: each institution's webhook and secret, and how the deliverer
//! paces itself. One TOML file, validated whole at load; an error names the file, the line
//! and the key.
//!
//! ```toml
//! [delivery]                  # every key optional; defaults shown
//! concurrency = 16            # requests in flight
//! batch = 100                 # rows leased per claim
//! lease_secs = 60             # a dead worker's rows come back after this
//! poll_ms = 1000              # how often an idle worker looks for due rows
//! timeout_ms = 10000          # per request, unless the institution sets its own
//! connect_timeout_ms = 5000
//! backoff_base_ms = 1000      # first retry after 0.5–1 s, doubling…
//! backoff_cap_ms = 3600000    # …up to an hour
//! max_attempts = 12           # then the delivery is dead
//! rejected_max_attempts = 3   # fewer when the receiver refuses it (4xx)
//!
//! [institutions.B0001]        # an `institutions` code
//! webhook = "http://10.0.0.7:8080/fanzha/warnings"
//! secret_env = "FANZHA_SECRET_B0001"   # or: secret = "…" (at least 16 bytes)
//! timeout_ms = 5000
//!
//! [institutions.upstream]     # the higher-level centre: warnings on cards of other
//! webhook = "http://10.0.0.9/fanzha/warnings"   # districts (fanzha_risk::run::UPSTREAM)
//! secret_env = "FANZHA_SECRET_UPSTREAM"
//! ```
//!
//! An institution without an entry keeps its warnings pending (logged once), so a missing
//! entry loses nothing. Secrets are kept as [`Secret`], whose `Debug` prints no byte of them, and no error or log
//! line quotes one.

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use toml::Spanned;

use crate::Backoff;

/// Shortest secret accepted: HMAC-SHA256 keys shorter than this are guessable.
pub const MIN_SECRET_BYTES: usize = 16;

/// A webhook secret. Prints as `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where one institution's warnings go.
#[derive(Debug, Clone)]
pub struct Endpoint {
    url: Url,
    secret: Secret,
    timeout: Duration,
}

impl Endpoint {
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }
}

/// How the deliverer paces itself; see the module's example for each key.
#[derive(Debug, Clone)]
pub struct Settings {
    concurrency: NonZeroUsize,
    batch: NonZeroU32,
    lease: Duration,
    poll: Duration,
    connect_timeout: Duration,
    backoff: Backoff,
    max_attempts: NonZeroU32,
    rejected_max_attempts: NonZeroU32,
}

impl Settings {
    pub fn concurrency(&self) -> NonZeroUsize {
        self.concurrency
    }
    pub fn batch(&self) -> NonZeroU32 {
        self.batch
    }
    pub fn lease(&self) -> Duration {
        self.lease
    }
    pub fn poll(&self) -> Duration {
        self.poll
    }
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }
    pub fn max_attempts(&self) -> NonZeroU32 {
        self.max_attempts
    }
    pub fn rejected_max_attempts(&self) -> NonZeroU32 {
        self.rejected_max_attempts
    }
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    settings: Settings,
    institutions: BTreeMap<String, Endpoint>,
}

impl Config {
    /// Reads and validates the file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: None,
            key: None,
            problem: Problem::Read(e.to_string()),
        })?;
        let config = Config::parse(&text, path)?;
        warn_if_readable_by_others(path, &text);
        Ok(config)
    }

    /// Validates `text` as the contents of `file` (named in errors only).
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let at = |span: Option<Range<usize>>, key: Option<String>, problem| ConfigError {
            file: file.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            key,
            problem,
        };
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| at(e.span(), None, Problem::Syntax(e.message().to_owned())))?;
        let settings = settings(raw.delivery.as_ref(), &at)?;
        let default_timeout = match raw.delivery.as_ref().and_then(|d| d.timeout_ms.as_ref()) {
            Some(v) => millis(v, "delivery.timeout_ms", &at)?,
            None => Duration::from_secs(10),
        };
        let mut institutions = BTreeMap::new();
        for (code, inst) in raw.institutions {
            let key = |k: &str| format!("institutions.{code}.{k}");
            if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(at(
                    Some(inst.span()),
                    Some(format!("institutions.{code:?}")),
                    Problem::BadCode,
                ));
            }
            let inst = inst.get_ref();
            let url = webhook(&inst.webhook, &key("webhook"), &at)?;
            let secret = match (&inst.secret, &inst.secret_env) {
                (Some(s), None) => secret(s.get_ref().as_bytes().to_vec(), s, &key("secret"), &at)?,
                (None, Some(var)) => {
                    let value = std::env::var(var.get_ref()).map_err(|_| {
                        at(
                            Some(var.span()),
                            Some(key("secret_env")),
                            Problem::EnvUnset(var.get_ref().clone()),
                        )
                    })?;
                    secret(value.into_bytes(), var, &key("secret_env"), &at)?
                }
                (Some(s), Some(_)) => {
                    return Err(at(Some(s.span()), Some(key("secret")), Problem::TwoSecrets))
                }
                (None, None) => {
                    return Err(at(
                        Some(inst.webhook.span()),
                        Some(format!("institutions.{code}")),
                        Problem::NoSecret,
                    ))
                }
            };
            let timeout = match &inst.timeout_ms {
                Some(v) => millis(v, &key("timeout_ms"), &at)?,
                None => default_timeout,
            };
            if settings.lease <= timeout {
                // A row leased for less than its request may take would be claimed again
                // while still in flight: harmless to an idempotent receiver, but a second
                // request for nothing on every slow answer.
                return Err(at(
                    inst.timeout_ms.as_ref().map(Spanned::span),
                    Some(key("timeout_ms")),
                    Problem::LeaseTooShort {
                        lease: settings.lease,
                        timeout,
                    },
                ));
            }
            institutions.insert(
                code,
                Endpoint {
                    url,
                    secret,
                    timeout,
                },
            );
        }
        Ok(Config {
            settings,
            institutions,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The `--concurrency` override.
    pub fn with_concurrency(mut self, n: NonZeroUsize) -> Config {
        self.settings.concurrency = n;
        self
    }

    /// The institution's endpoint, if configured.
    pub fn endpoint(&self, institution_code: &str) -> Option<&Endpoint> {
        self.institutions.get(institution_code)
    }

    /// The configured institution codes, in order.
    pub fn institutions(&self) -> impl Iterator<Item = &str> {
        self.institutions.keys().map(String::as_str)
    }
}

/// A configuration the deliverer refuses, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; `None` when the whole file is at fault.
    pub line: Option<usize>,
    /// The offending key, dotted (`institutions.B0001.webhook`), when one is to blame.
    pub key: Option<String>,
    pub problem: Problem,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What is wrong. No variant carries a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("cannot read: {0}")]
    Read(String),
    #[error("{0}")]
    Syntax(String),
    #[error("not a URL: {0}")]
    BadUrl(String),
    #[error(
        "only http:// webhooks are supported: this build links no TLS client; reach an \
         https:// receiver through a local TLS proxy"
    )]
    NotHttp,
    #[error("a user name or password in the URL would be logged and stored; sign with the secret instead")]
    CredentialsInUrl,
    #[error("no secret: give `secret` or `secret_env`")]
    NoSecret,
    #[error("give `secret` or `secret_env`, not both")]
    TwoSecrets,
    #[error("the secret is {0} bytes; at least {MIN_SECRET_BYTES} are needed")]
    SecretTooShort(usize),
    #[error("the environment variable {0} is not set (or not UTF-8)")]
    EnvUnset(String),
    #[error("must be at least 1")]
    Zero,
    #[error("{0} is too large")]
    TooLarge(u64),
    #[error("backoff_base_ms must be at most backoff_cap_ms")]
    BaseAboveCap,
    #[error(
        "the lease ({lease:?}) must be longer than the request timeout ({timeout:?}), or a \
         slow request's row is sent again while still in flight"
    )]
    LeaseTooShort { lease: Duration, timeout: Duration },
    #[error("an institution code must be non-empty text without spaces")]
    BadCode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    delivery: Option<RawDelivery>,
    #[serde(default)]
    institutions: BTreeMap<String, Spanned<RawInstitution>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    concurrency: Option<Spanned<u64>>,
    batch: Option<Spanned<u64>>,
    lease_secs: Option<Spanned<u64>>,
    poll_ms: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    connect_timeout_ms: Option<Spanned<u64>>,
    backoff_base_ms: Option<Spanned<u64>>,
    backoff_cap_ms: Option<Spanned<u64>>,
    max_attempts: Option<Spanned<u64>>,
    rejected_max_attempts: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstitution {
    webhook: Spanned<String>,
    secret: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    timeout_ms: Option<Spanned<u64>>,
}

type At<'a> = dyn Fn(Option<Range<usize>>, Option<String>, Problem) -> ConfigError + 'a;

/// No delay or count in the file may exceed this: a day in milliseconds is already absurd
/// for a timeout, and bounding values keeps every conversion below exact.
const LIMIT: u64 = 1 << 40;

fn bounded(v: &Spanned<u64>, key: &str, at: &At<'_>) -> Result<u64, ConfigError> {
    match *v.get_ref() {
        0 => Err(at(Some(v.span()), Some(key.to_owned()), Problem::Zero)),
        n if n > LIMIT => Err(at(
            Some(v.span()),
            Some(key.to_owned()),
            Problem::TooLarge(n),
        )),
        n => Ok(n),
    }
}

fn millis(v: &Spanned<u64>, key: &str, at: &At<'_>) -> Result<Duration, ConfigError> {
    bounded(v, key, at).map(Duration::from_millis)
}

fn settings(raw: Option<&RawDelivery>, at: &At<'_>) -> Result<Settings, ConfigError> {
    // Each key: its value if given (validated), else the default.
    let get = |v: Option<&Option<Spanned<u64>>>, key: &str, default: u64| match v
        .and_then(Option::as_ref)
    {
        Some(v) => bounded(v, &format!("delivery.{key}"), at),
        None => Ok(default),
    };
    let concurrency = get(raw.map(|r| &r.concurrency), "concurrency", 16)?;
    let batch = get(raw.map(|r| &r.batch), "batch", 100)?;
    let lease = get(raw.map(|r| &r.lease_secs), "lease_secs", 60)?;
    let poll = get(raw.map(|r| &r.poll_ms), "poll_ms", 1_000)?;
    let connect = get(
        raw.map(|r| &r.connect_timeout_ms),
        "connect_timeout_ms",
        5_000,
    )?;
    let base = get(raw.map(|r| &r.backoff_base_ms), "backoff_base_ms", 1_000)?;
    let cap = get(raw.map(|r| &r.backoff_cap_ms), "backoff_cap_ms", 3_600_000)?;
    let max = get(raw.map(|r| &r.max_attempts), "max_attempts", 12)?;
    let rejected = get(
        raw.map(|r| &r.rejected_max_attempts),
        "rejected_max_attempts",
        3,
    )?;
    let too_large = |key: &str, n: u64, field: Option<&Option<Spanned<u64>>>| {
        at(
            field.and_then(Option::as_ref).map(Spanned::span),
            Some(format!("delivery.{key}")),
            Problem::TooLarge(n),
        )
    };
    let backoff = Backoff::new(Duration::from_millis(base), Duration::from_millis(cap))
        .ok_or_else(|| {
            at(
                raw.and_then(|r| r.backoff_base_ms.as_ref())
                    .map(Spanned::span),
                Some("delivery.backoff_base_ms".into()),
                Problem::BaseAboveCap,
            )
        })?;
    // Bounded above, non-zero: every conversion below succeeds, the fallbacks never run.
    let nz_u32 = |n: u64, key: &str, field| {
        u32::try_from(n)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| too_large(key, n, field))
    };
    Ok(Settings {
        concurrency: usize::try_from(concurrency)
            .ok()
            .filter(|&n| n <= 4096)
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| too_large("concurrency", concurrency, raw.map(|r| &r.concurrency)))?,
        batch: nz_u32(batch, "batch", raw.map(|r| &r.batch))?,
        lease: Duration::from_secs(lease),
        poll: Duration::from_millis(poll),
        connect_timeout: Duration::from_millis(connect),
        backoff,
        max_attempts: nz_u32(max, "max_attempts", raw.map(|r| &r.max_attempts))?,
        rejected_max_attempts: nz_u32(
            rejected,
            "rejected_max_attempts",
            raw.map(|r| &r.rejected_max_attempts),
        )?,
    })
}

fn webhook(v: &Spanned<String>, key: &str, at: &At<'_>) -> Result<Url, ConfigError> {
    let err = |p| at(Some(v.span()), Some(key.to_owned()), p);
    let url = Url::parse(v.get_ref()).map_err(|e| err(Problem::BadUrl(e.to_string())))?;
    match url.scheme() {
        "http" => {}
        "https" => return Err(err(Problem::NotHttp)),
        other => return Err(err(Problem::BadUrl(format!("scheme {other}: is not http")))),
    }
    if url.host().is_none() {
        return Err(err(Problem::BadUrl("no host".into())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(Problem::CredentialsInUrl));
    }
    Ok(url)
}

fn secret<T>(
    bytes: Vec<u8>,
    at_value: &Spanned<T>,
    key: &str,
    at: &At<'_>,
) -> Result<Secret, ConfigError> {
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(at(
            Some(at_value.span()),
            Some(key.to_owned()),
            Problem::SecretTooShort(bytes.len()),
        ));
    }
    Ok(Secret(bytes))
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A file holding secrets should be readable by its owner alone; say so, without refusing:
/// the operator may have reasons (a secrets volume mounted group-readable).
fn warn_if_readable_by_others(path: &Path, text: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let inline_secret = text.lines().any(|l| l.trim_start().starts_with("secret "))
            || text.lines().any(|l| l.trim_start().starts_with("secret="));
        if let Ok(meta) = std::fs::metadata(path) {
            if inline_secret && meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the delivery configuration holds secrets and is readable by group or others; chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("deliver.toml"))
    }

    const OK: &str = r#"
[delivery]
concurrency = 4

[institutions.B0001]
webhook = "http://127.0.0.1:9/hook"
secret = "0123456789abcdef0123"
"#;

    #[test]
    fn a_valid_file_loads_with_defaults() {
        let c = parse(OK).unwrap();
        assert_eq!(c.settings().concurrency().get(), 4);
        assert_eq!(c.settings().max_attempts().get(), 12);
        assert_eq!(c.settings().backoff().base(), Duration::from_secs(1));
        let e = c.endpoint("B0001").unwrap();
        assert_eq!(e.url().as_str(), "http://127.0.0.1:9/hook");
        assert_eq!(e.timeout(), Duration::from_secs(10));
        assert!(c.endpoint("B0002").is_none());
    }

    #[test]
    fn secrets_never_print() {
        let c = parse(OK).unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
        let err = parse(&OK.replace("0123456789abcdef0123", "short-secret")).unwrap_err();
        assert!(!err.to_string().contains("short-secret"), "{err}");
    }

    fn fails(text: &str) -> ConfigError {
        parse(text).expect_err("should be refused")
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = fails(&OK.replace("http://127.0.0.1:9/hook", "not a url"));
        assert_eq!(e.line, Some(6));
        assert_eq!(e.key.as_deref(), Some("institutions.B0001.webhook"));
        assert!(matches!(e.problem, Problem::BadUrl(_)));
        assert!(
            e.to_string()
                .starts_with("deliver.toml:6: institutions.B0001.webhook: not a URL"),
            "{e}"
        );

        let e = fails(&OK.replace("concurrency = 4", "concurrency = 0"));
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(3), Some("delivery.concurrency"))
        );
        assert_eq!(e.problem, Problem::Zero);

        let e = fails(&OK.replace("0123456789abcdef0123", "short"));
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(7), Some("institutions.B0001.secret"))
        );
        assert_eq!(e.problem, Problem::SecretTooShort(5));
    }

    #[test]
    fn unknown_keys_and_syntax_errors_are_refused_with_their_line() {
        let e = fails(&OK.replace("concurrency = 4", "concurrancy = 4"));
        assert_eq!(e.line, Some(3));
        assert!(
            matches!(&e.problem, Problem::Syntax(m) if m.contains("concurrancy")),
            "{e}"
        );

        let e = fails(&format!("{OK}\nwebhook = [\n"));
        assert!(matches!(e.problem, Problem::Syntax(_)), "{e}");
        assert!(e.line.is_some());

        let e = fails("[institutions.B0001]\nsecret = \"0123456789abcdef0123\"\n");
        assert!(
            matches!(&e.problem, Problem::Syntax(m) if m.contains("webhook")),
            "{e}"
        );
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn https_credentials_and_other_schemes_are_refused() {
        let e = fails(&OK.replace("http://127.0.0.1:9/hook", "https://bank.example/hook"));
        assert_eq!(e.problem, Problem::NotHttp);
        let e = fails(&OK.replace("http://127.0.0.1", "http://user:pw@127.0.0.1"));
        assert_eq!(e.problem, Problem::CredentialsInUrl);
        let e = fails(&OK.replace("http://127.0.0.1:9/hook", "ftp://127.0.0.1/hook"));
        assert!(matches!(e.problem, Problem::BadUrl(_)));
    }

    #[test]
    fn secret_needs_exactly_one_source() {
        let e = fails("[institutions.B0001]\nwebhook = \"http://h/\"\n");
        assert_eq!((e.line, e.problem.clone()), (Some(2), Problem::NoSecret));
        let e = fails(&format!("{OK}secret_env = \"X\"\n"));
        assert_eq!(e.problem, Problem::TwoSecrets);
        let e = fails(
            "[institutions.B0001]\nwebhook = \"http://h/\"\nsecret_env = \"FANZHA_TEST_UNSET_VAR_9\"\n",
        );
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.problem,
            Problem::EnvUnset("FANZHA_TEST_UNSET_VAR_9".into())
        );
    }

    #[test]
    fn lease_must_outlast_the_request_and_base_not_exceed_cap() {
        let e = fails(&format!("{OK}timeout_ms = 60000\n"));
        assert_eq!(e.line, Some(8));
        assert!(matches!(e.problem, Problem::LeaseTooShort { .. }));
        let e = fails(&OK.replace(
            "concurrency = 4",
            "backoff_base_ms = 5000\nbackoff_cap_ms = 1000",
        ));
        assert_eq!(
            (e.line, e.problem.clone()),
            (Some(3), Problem::BaseAboveCap)
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = Config::load(Path::new("/nonexistent/deliver.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/deliver.toml: cannot read"),
            "{e}"
        );
    }
}
