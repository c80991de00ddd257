//! Fakes for what cannot run in tests for real, and helpers to run what can.
//!
//! - [`MockModel`]: the OpenAI Responses API (`POST /v1/responses`, SSE) on loopback, scripted
//!   per test, so the real `codex app-server` runs offline.
//! - [`MockMessages`]: the Anthropic Messages API (`POST /v1/messages`, SSE with `event:`
//!   lines) on loopback, scripted per test, so the real Claude Code CLI runs offline.
//! - [`browser`]: headless Chromium over WebDriver, for tests of the dashboard.
//! - [`claude`]: finds the pinned Claude Code CLI.
//! - [`codex`]: finds the pinned Codex CLI and writes a `CODEX_HOME` pointing at a mock.
//! - [`github`]: a stateful fake GitHub (REST + the GraphQL Symphony sends) on loopback, with
//!   ETags, `Link` pagination, rate-limit headers, fault injection and OpenAPI validation.
//! - `symphony-fake-codex` (binary): a scripted app-server for faults the real one cannot be
//!   made to produce on demand (silence, garbage, huge lines, crashes).

pub mod browser;
mod ci;
pub mod claude;
pub mod codex;
pub mod github;
pub mod graphql_subset;
mod http_request;
pub mod linear;
mod loopback;
mod mock_messages;
mod mock_model;
mod refusing_proxy;
pub mod requires;

pub use mock_messages::{MessagesUsage, MockMessages, Received, Reply};
pub use mock_model::{MockModel, Step, Usage};
pub use refusing_proxy::RefusingProxy;
