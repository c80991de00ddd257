//! The `server:` section of WORKFLOW.md (SPEC §13.7, owned by this extension):
//!
//! ```yaml
//! server:
//!   port: 8080              # 0 = an ephemeral port; `symphony run --port` wins
//!   host: 127.0.0.1         # default; anything else needs auth_token
//!   auth_token: $SYMPHONY_SERVER_TOKEN
//! ```

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

/// Where and how the server listens.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to bind.
    pub host: IpAddr,
    /// Port (`0`: ephemeral).
    pub port: u16,
    /// Bearer token required for everything but `/healthz` (and the signed webhook).
    pub auth_token: Option<String>,
    /// The secret GitHub signs webhook deliveries with (`None`: the endpoint is off).
    pub github_webhook_secret: Option<String>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "********"))
            .field(
                "github_webhook_secret",
                &self.github_webhook_secret.as_ref().map(|_| "********"),
            )
            .finish()
    }
}

impl ServerConfig {
    /// The JSON Schema (2020-12) of the `server` section: what `from_section` accepts.
    pub fn schema() -> Value {
        let secret = |what: &str| {
            serde_json::json!({
                "description": format!("{what}: a `$VAR` reference to an environment variable holding at least 16 characters."),
                "type": "string", "pattern": "^\\$[A-Za-z_][A-Za-z0-9_]*$",
            })
        };
        serde_json::json!({
            "description": "Extension: the HTTP dashboard, JSON API, metrics and webhooks \
                            (SPEC §13.7). Off unless `port` is set or `symphony run --port` is given.",
            "type": ["object", "null"],
            "properties": {
                "port": {"description": "Port to listen on; 0 = ephemeral.", "type": "integer", "minimum": 0, "maximum": 65535},
                "host": {"description": "Address to bind; anything but loopback needs auth_token.", "type": "string", "default": "127.0.0.1"},
                "auth_token": secret("Bearer token required for everything but /healthz"),
                "github_webhook_secret": secret("The secret GitHub signs webhook deliveries with"),
            },
            "additionalProperties": false,
        })
    }

    /// The server's settings, or `None` when neither `server.port` nor `cli_port` asks for
    /// one. `env` resolves `$VAR` references (secrets are never written in the file).
    pub fn from_section(
        section: Option<&Value>,
        cli_port: Option<u16>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        let empty = serde_json::Map::new();
        let map = match section {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => return Err("server: expected a map".to_owned()),
        };
        let mut port = None;
        let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut auth_token = None;
        let mut github_webhook_secret = None;
        for (key, value) in map {
            match key.as_str() {
                "port" => {
                    port = Some(
                        value
                            .as_u64()
                            .and_then(|p| u16::try_from(p).ok())
                            .ok_or("server.port: expected 0..=65535 (0 = ephemeral)")?,
                    )
                }
                "host" => {
                    host = value
                        .as_str()
                        .and_then(|h| {
                            if h == "localhost" {
                                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
                            } else {
                                h.parse().ok()
                            }
                        })
                        .ok_or("server.host: expected an IP address (e.g. 127.0.0.1)")?
                }
                "auth_token" => auth_token = Some(secret(key, value, &env)?),
                "github_webhook_secret" => {
                    github_webhook_secret = Some(secret(key, value, &env)?)
                }
                other => {
                    return Err(format!(
                        "server.{other} is not a setting (port, host, auth_token, github_webhook_secret)"
                    ))
                }
            }
        }
        let Some(port) = cli_port.or(port) else {
            return Ok(None);
        };
        if !host.is_loopback() && auth_token.is_none() {
            return Err(format!(
                "server.host {host} is not a loopback address: set server.auth_token so the \
                 API and dashboard are not open to the network"
            ));
        }
        Ok(Some(Self {
            host,
            port,
            auth_token,
            github_webhook_secret,
        }))
    }
}

/// The `server` section as the loader sees it: validated at load and reload as `symphony run`
/// would use it (as if a port were given, so a non-loopback host without a token is refused
/// before anyone passes `--port`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerSection;

impl symphony_workflow::ConfigSection for ServerSection {
    fn key(&self) -> &str {
        "server"
    }
    fn owner(&self) -> &str {
        "HTTP dashboard, API, metrics and webhooks"
    }
    fn error_category(&self) -> &'static str {
        "invalid_server_config"
    }
    fn schema(&self) -> Value {
        ServerConfig::schema()
    }
    fn validate(
        &self,
        value: &Value,
        context: &symphony_workflow::SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        ServerConfig::from_section(Some(value), Some(0), |name| context.env.var(name))
            .map(drop)
            .map_err(Into::into)
    }
}

/// A secret setting: `$VAR` only, resolved now, at least 16 characters.
fn secret(
    key: &str,
    value: &Value,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let text = value.as_str().unwrap_or_default();
    let Some(name) = text.strip_prefix('$').filter(|n| !n.is_empty()) else {
        return Err(format!(
            "server.{key}: write `$VAR` and put the secret in that environment variable \
             (secrets are not written in WORKFLOW.md)"
        ));
    };
    let secret = env(name)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("server.{key}: ${name} is unset or empty"))?;
    if secret.len() < 16 {
        return Err(format!(
            "server.{key}: ${name} is shorter than 16 characters"
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret-s3cret-s3cret".to_owned())
    }

    #[test]
    fn the_server_starts_only_when_asked_and_binds_loopback_by_default() {
        assert_eq!(ServerConfig::from_section(None, None, env).unwrap(), None);
        let config = ServerConfig::from_section(Some(&json!({"port": 8080})), None, env)
            .unwrap()
            .unwrap();
        assert_eq!(
            (config.host.to_string(), config.port),
            ("127.0.0.1".into(), 8080)
        );
        let cli = ServerConfig::from_section(Some(&json!({"port": 8080})), Some(0), env)
            .unwrap()
            .unwrap();
        assert_eq!(cli.port, 0, "the CLI wins");
        assert!(ServerConfig::from_section(None, Some(9), env)
            .unwrap()
            .is_some());
    }

    #[test]
    fn a_network_bind_needs_a_token_from_the_environment() {
        let open =
            ServerConfig::from_section(Some(&json!({"port": 1, "host": "0.0.0.0"})), None, env);
        assert!(open.unwrap_err().contains("set server.auth_token"));
        let config = ServerConfig::from_section(
            Some(&json!({"port": 1, "host": "0.0.0.0", "auth_token": "$TOKEN"})),
            None,
            env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.auth_token.as_deref(), Some("s3cret-s3cret-s3cret"));
        assert!(!format!("{config:?}").contains("s3cret"));
        for (bad, says) in [
            (
                json!({"port": 1, "auth_token": "literal-token-here!!"}),
                "write `$VAR`",
            ),
            (
                json!({"port": 1, "auth_token": "$MISSING"}),
                "unset or empty",
            ),
            (json!({"port": 70000}), "0..=65535"),
            (json!({"port": 1, "host": "example.com"}), "an IP address"),
            (json!({"prot": 1}), "server.prot is not a setting"),
        ] {
            let error = ServerConfig::from_section(Some(&bad), None, env).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
