//! Fakes for what cannot run in tests for real, and helpers to run what can.
//!
//! - [`MockModel`]: the OpenAI Responses API (`POST /v1/responses`, SSE) on loopback, scripted
//!   per test, so the real `codex app-server` runs offline.
//! - [`codex`]: finds the pinned Codex CLI and writes a `CODEX_HOME` pointing at a mock.
//! - `symphony-fake-codex` (binary): a scripted app-server for faults the real one cannot be
//!   made to produce on demand (silence, garbage, huge lines, crashes).

pub mod codex;
mod mock_model;

pub use mock_model::{MockModel, Step, Usage};
