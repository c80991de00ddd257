//! The REST endpoints the fake serves, routed by hand so every path is answered (unknown ones
//! with GitHub's 404 body).

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::exchange::Reply;
use super::model::{CheckRun, Comment, CommitStatus};
use super::render;
use super::rest_issues::*;
use super::rest_query::{decode, param, query_pairs, repo_of_path};
use super::rest_reviews;
use super::state::Shared;

pub(crate) fn route(
    shared: &mut Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let Some(repo) = repo_of_path(&shared.world, path) else {
        return Reply::not_found();
    };
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    // After `/repos/o/r` (3 segments) or `/repositories/id` (2 segments).
    let skip = if segments[0] == "repos" { 3 } else { 2 };
    let rest: Vec<&str> = segments[skip..].iter().map(String::as_str).collect();
    let pairs = query_pairs(query);
    let base = shared.base.clone();
    let world = &mut shared.world;
    let number = |s: &str| s.parse::<u64>().ok();
    match (method.as_str(), rest.as_slice()) {
        ("GET", ["issues"]) => list_issues(world, repo, &base, &pairs),
        ("POST", ["issues"]) => create_issue(world, repo, &base, body),
        ("GET", ["issues", n]) => with_issue(world, repo, number(n), |world, repo, n| {
            let r = &world.repos[repo];
            Reply::json(
                StatusCode::OK,
                render::issue_json(&base, r, r.issue(n).expect("exists")),
            )
        }),
        ("PATCH", ["issues", n]) => with_issue(world, repo, number(n), |world, repo, n| {
            patch_issue(world, repo, n, &base, body)
        }),
        ("GET", ["issues", n, "labels"]) => with_issue(world, repo, number(n), |world, repo, n| {
            labels_of(world, repo, n, &base)
        }),
        ("POST" | "PUT", ["issues", n, "labels"]) => {
            let replace = method == Method::PUT;
            with_issue(world, repo, number(n), |world, repo, n| {
                set_labels(world, repo, n, &base, body, replace)
            })
        }
        ("DELETE", ["issues", n, "labels", name]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let now = world.tick();
                let issue = world.repos[repo].issue_mut(n).expect("exists");
                let before = issue.labels.len();
                issue.labels.retain(|l| !l.eq_ignore_ascii_case(name));
                if issue.labels.len() == before {
                    return Reply::error(StatusCode::NOT_FOUND, "Label does not exist");
                }
                issue.updated_at = now;
                labels_of(world, repo, n, &base)
            })
        }
        ("GET", ["issues", n, "comments"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let r = &world.repos[repo];
                let issue = r.issue(n).expect("exists");
                let list: Vec<Value> = issue
                    .comments
                    .iter()
                    .map(|c| render::comment_json(&base, r, issue, c))
                    .collect();
                Reply::json(StatusCode::OK, Value::Array(list))
            })
        }
        ("POST", ["issues", n, "comments"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let Some(text) = body.and_then(|b| b.get("body")).and_then(Value::as_str) else {
                    return Reply::invalid("body is required");
                };
                let now = world.tick();
                let id = world.fresh_id();
                let issue = world.repos[repo].issue_mut(n).expect("exists");
                issue.comments.push(Comment {
                    id,
                    body: text.to_owned(),
                    user: "symphony-bot".to_owned(),
                    created_at: now,
                });
                issue.updated_at = now;
                let r = &world.repos[repo];
                let issue = r.issue(n).expect("exists");
                let comment = issue.comments.last().expect("just pushed");
                Reply::json(
                    StatusCode::CREATED,
                    render::comment_json(&base, r, issue, comment),
                )
            })
        }
        ("GET", ["issues", n, "dependencies", "blocked_by"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let r = &world.repos[repo];
                let list: Vec<Value> = r
                    .issue(n)
                    .expect("exists")
                    .blocked_by
                    .iter()
                    .filter_map(|b| r.issue(*b))
                    .map(|b| render::issue_json(&base, r, b))
                    .collect();
                Reply::json(StatusCode::OK, Value::Array(list))
            })
        }
        ("GET", ["labels"]) => {
            let r = &world.repos[repo];
            let list: Vec<Value> = r
                .labels
                .iter()
                .map(|l| render::label_json(&base, r, l))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("GET", ["pulls"]) => {
            let r = &world.repos[repo];
            let state = param(&pairs, "state").unwrap_or("open");
            let head = param(&pairs, "head");
            let list: Vec<Value> = r
                .issues
                .iter()
                .filter(|i| i.pull.is_some())
                .filter(|i| state == "all" || (state == "open") == i.open)
                .filter(|i| {
                    head.is_none_or(|h| {
                        let branch = h.split_once(':').map_or(h, |(_, b)| b);
                        i.pull.as_ref().is_some_and(|p| p.head == branch)
                    })
                })
                .map(|i| render::pull_json(&base, r, i))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("POST", ["pulls"]) => create_pull(world, repo, &base, body),
        ("GET", ["pulls", n]) => {
            let r = &world.repos[repo];
            match number(n).and_then(|n| r.pull(n)) {
                Some(pull) => Reply::json(StatusCode::OK, render::pull_json(&base, r, pull)),
                None => Reply::not_found(),
            }
        }
        ("GET", ["pulls", n, "reviews"]) => {
            rest_reviews::reviews(world, repo, &base, number(n), &pairs)
        }
        ("POST", ["pulls", n, "reviews"]) => {
            rest_reviews::create_review(world, repo, &base, number(n), body)
        }
        ("GET", ["pulls", n, "comments"]) => {
            rest_reviews::review_comments(world, repo, &base, number(n), &pairs)
        }
        ("POST", ["pulls", n, "comments", id, "replies"]) => {
            rest_reviews::reply(world, repo, &base, (number(n), number(id)), body)
        }
        ("GET", ["git", "ref", "heads", branch @ ..]) if !branch.is_empty() => {
            rest_reviews::branch_ref(world, repo, &base, &branch.join("/"))
        }
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            rest_reviews::request_reviewers(world, repo, &base, number(n), body)
        }
        ("GET", ["commits", sha, "check-runs"]) => {
            rest_reviews::check_runs(world, repo, &base, sha, &pairs)
        }
        ("GET", ["commits", sha, "status"]) => {
            rest_reviews::combined_status(world, repo, &base, sha)
        }
        ("PATCH", ["pulls", n]) => {
            let now = world.tick();
            let r = &mut world.repos[repo];
            let Some(pull) = number(n).and_then(|n| r.pull_mut(n)) else {
                return Reply::not_found();
            };
            if let Some(title) = body.and_then(|b| b.get("title")).and_then(Value::as_str) {
                pull.title = title.to_owned();
            }
            if let Some(text) = body.and_then(|b| b.get("body")).and_then(Value::as_str) {
                pull.body = Some(text.to_owned());
            }
            pull.updated_at = now;
            let pull = pull.clone();
            Reply::json(
                StatusCode::OK,
                render::pull_json(&base, &world.repos[repo], &pull),
            )
        }
        ("POST", ["statuses", sha]) => {
            let state = body
                .and_then(|b| b.get("state"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if !["error", "failure", "pending", "success"].contains(&state) {
                return Reply::invalid("state must be error, failure, pending or success");
            }
            let id = world.fresh_id();
            let status = CommitStatus {
                id,
                sha: (*sha).to_owned(),
                state: state.to_owned(),
                context: body
                    .and_then(|b| b.get("context"))
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_owned(),
                description: body
                    .and_then(|b| b.get("description"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            world.repos[repo].statuses.push(status.clone());
            Reply::json(
                StatusCode::CREATED,
                render::status_json(&base, &world.repos[repo], id, &status),
            )
        }
        ("GET", ["commits", sha, "statuses"]) => {
            let r = &world.repos[repo];
            let list: Vec<Value> = r
                .statuses
                .iter()
                .rev()
                .filter(|s| s.sha == *sha)
                .map(|s| render::status_json(&base, r, s.id, s))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("POST", ["check-runs"]) => {
            let Some(name) = body.and_then(|b| b.get("name")).and_then(Value::as_str) else {
                return Reply::invalid("name is required");
            };
            let Some(head_sha) = body.and_then(|b| b.get("head_sha")).and_then(Value::as_str)
            else {
                return Reply::invalid("head_sha is required");
            };
            let annotations = match annotations_of(body) {
                Ok(list) => list,
                Err(reply) => return reply,
            };
            let id = world.fresh_id();
            let run = CheckRun {
                id,
                head_sha: head_sha.to_owned(),
                name: name.to_owned(),
                status: body
                    .and_then(|b| b.get("status"))
                    .and_then(Value::as_str)
                    .unwrap_or("queued")
                    .to_owned(),
                conclusion: body
                    .and_then(|b| b.get("conclusion"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                output: body
                    .and_then(|b| b.get("output"))
                    .cloned()
                    .unwrap_or(Value::Null),
                annotations,
                app: None,
            };
            world.repos[repo].check_runs.push(run.clone());
            Reply::json(
                StatusCode::CREATED,
                render::check_run_json(&base, &world.repos[repo], &run),
            )
        }
        ("PATCH", ["check-runs", id]) => {
            let annotations = match annotations_of(body) {
                Ok(list) => list,
                Err(reply) => return reply,
            };
            let r = &mut world.repos[repo];
            let Some(run) = number(id).and_then(|id| r.check_runs.iter_mut().find(|c| c.id == id))
            else {
                return Reply::not_found();
            };
            let field = |key: &str| body.and_then(|b| b.get(key)).and_then(Value::as_str);
            if let Some(status) = field("status") {
                run.status = status.to_owned();
            }
            if let Some(conclusion) = field("conclusion") {
                run.conclusion = Some(conclusion.to_owned());
            }
            if let Some(output) = body.and_then(|b| b.get("output")) {
                run.output = output.clone();
            }
            run.annotations.extend(annotations);
            let run = run.clone();
            Reply::json(
                StatusCode::OK,
                render::check_run_json(&base, &world.repos[repo], &run),
            )
        }
        _ => Reply::not_found(),
    }
}
