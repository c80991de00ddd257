//! Fakes for what cannot run in tests for real, and helpers to run what can.
//!
//! - [`MockModel`]: the OpenAI Responses API (`POST /v1/responses`, SSE) on loopback, scripted
//!   per test, so the real `codex app-server` runs offline.
//! - [`browser`]: headless Chromium over WebDriver, for tests of the dashboard.
//! - [`codex`]: finds the pinned Codex CLI and writes a `CODEX_HOME` pointing at a mock.
//! - [`github`]: a stateful fake GitHub (REST + the GraphQL Symphony sends) on loopback, with
//!   ETags, `Link` pagination, rate-limit headers, fault injection and OpenAPI validation.
//! - `symphony-fake-codex` (binary): a scripted app-server for faults the real one cannot be
//!   made to produce on demand (silence, garbage, huge lines, crashes).

pub mod browser;
mod ci;
pub mod codex;
pub mod github;
mod mock_model;
pub mod requires;

pub use mock_model::{MockModel, Step, Usage};
