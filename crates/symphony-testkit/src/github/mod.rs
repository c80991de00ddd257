//! A fake GitHub on loopback: stateful, paginated by `Link` with GitHub's
//! `/repositories/{id}` URLs, weak ETags answered with `304` (free of rate-limit cost, as on
//! GitHub), `x-ratelimit-*` headers per resource, GitHub's error bodies, and fault injection.
//! It serves the REST endpoints Symphony uses and the GraphQL operations it sends (matched by
//! operation name; the fake does not execute arbitrary GraphQL), and lets tests act as people
//! and other apps on a pull request: reviews, review comments, check runs, pushes, conflicts,
//! merges (`reviews.rs`).
//!
//! Every exchange is recorded, so tests can count requests and check both sides against
//! GitHub's OpenAPI description ([`openapi`]).

mod exchange;
mod fake;
mod faults;
mod graphql;
mod graphql_reviews;
pub mod graphql_schema;
mod model;
pub mod openapi;
mod render;
mod render_reviews;
mod rest;
mod rest_issues;
mod rest_query;
mod rest_reviews;
mod reviews;
mod server;
mod state;

pub use exchange::Exchange;
pub use fake::FakeGithub;
pub use faults::Fault;
pub use model::{CheckRun, Comment, CommitStatus, FakeIssue, PullRequest, Review, ReviewComment};
pub use state::NewIssue;
