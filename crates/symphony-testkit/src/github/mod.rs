//! A fake GitHub on loopback: stateful, paginated by `Link` with GitHub's
//! `/repositories/{id}` URLs, weak ETags answered with `304` (free of rate-limit cost, as on
//! GitHub), `x-ratelimit-*` headers per resource, GitHub's error bodies, and fault injection.
//! It serves the REST endpoints Symphony uses and the GraphQL operations it sends (matched by
//! operation name; the fake does not execute arbitrary GraphQL).
//!
//! Every exchange is recorded, so tests can count requests and check both sides against
//! GitHub's OpenAPI description ([`openapi`]).

mod exchange;
mod fake;
mod faults;
mod graphql;
mod model;
pub mod openapi;
mod render;
mod rest;
mod rest_issues;
mod rest_query;
mod server;
mod state;

pub use exchange::Exchange;
pub use fake::FakeGithub;
pub use faults::Fault;
pub use model::{CheckRun, Comment, CommitStatus, FakeIssue, PullRequest};
pub use state::NewIssue;
