//! The fake's world as GitHub renders it: REST JSON for issues, pulls, labels, comments,
//! statuses, check runs and repositories; GraphQL nodes; error bodies.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::model::{CheckRun, Comment, CommitStatus, FakeIssue, Label, PullRequest, Repo};

const DOCS: &str = "https://docs.github.com/rest";

/// A GitHub error body.
pub(crate) fn error_body(message: &str, status: u16) -> Value {
    json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() })
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn user(base: &str, login: &str) -> Value {
    let id = login
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000;
    let url = format!("{base}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": format!("U_fake{id}"),
        "avatar_url": format!("https://avatars.example/u/{id}"), "gravatar_id": "",
        "url": url, "html_url": format!("https://github.example/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"), "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": "User", "site_admin": false, "user_view_type": "public"
    })
}

pub(crate) fn label_json(base: &str, repo: &Repo, label: &Label) -> Value {
    json!({
        "id": label.id,
        "node_id": format!("LA_fake{}", label.id),
        "url": format!("{base}/repos/{}/labels/{}", repo.full_name(), label.name),
        "name": label.name,
        "description": null,
        "color": label.color,
        "default": false
    })
}

/// An issue (or a pull request's issue face) as the REST issues endpoints render it.
pub(crate) fn issue_json(base: &str, repo: &Repo, issue: &FakeIssue) -> Value {
    let url = format!("{base}/repos/{}/issues/{}", repo.full_name(), issue.number);
    let labels: Vec<Value> = issue
        .labels
        .iter()
        .filter_map(|name| repo.labels.iter().find(|l| &l.name == name))
        .map(|l| label_json(base, repo, l))
        .collect();
    let assignees: Vec<Value> = issue.assignees.iter().map(|a| user(base, a)).collect();
    let open_blockers = issue
        .blocked_by
        .iter()
        .filter(|n| repo.issue(**n).is_some_and(|b| b.open))
        .count();
    let blocking = repo
        .issues
        .iter()
        .filter(|i| i.blocked_by.contains(&issue.number))
        .count();
    let mut value = json!({
        "id": issue.id,
        "node_id": issue.node_id,
        "url": url,
        "repository_url": format!("{base}/repos/{}", repo.full_name()),
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("https://github.example/{}/issues/{}", repo.full_name(), issue.number),
        "number": issue.number,
        "state": if issue.open { "open" } else { "closed" },
        "state_reason": if issue.open { Value::Null } else { json!("completed") },
        "title": issue.title,
        "body": issue.body,
        "user": user(base, "octocat"),
        "labels": labels,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "assignees": assignees,
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": issue.comments.len(),
        "closed_at": issue.closed_at.map(timestamp),
        "created_at": timestamp(issue.created_at),
        "updated_at": timestamp(issue.updated_at),
        "author_association": "OWNER",
        "issue_dependencies_summary": {
            "blocked_by": open_blockers,
            "blocking": blocking,
            "total_blocked_by": issue.blocked_by.len(),
            "total_blocking": blocking
        }
    });
    if issue.pull.is_some() {
        value["pull_request"] = json!({
            "url": format!("{base}/repos/{}/pulls/{}", repo.full_name(), issue.number),
            "html_url": format!("https://github.example/{}/pull/{}", repo.full_name(), issue.number),
            "diff_url": format!("https://github.example/{}/pull/{}.diff", repo.full_name(), issue.number),
            "patch_url": format!("https://github.example/{}/pull/{}.patch", repo.full_name(), issue.number),
            "merged_at": null
        });
    }
    if issue.corrupt {
        value["title"] = Value::Null;
    }
    value
}

/// A comment as REST renders it.
pub(crate) fn comment_json(base: &str, repo: &Repo, issue: &FakeIssue, comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "node_id": format!("IC_fake{}", comment.id),
        "url": format!("{base}/repos/{}/issues/comments/{}", repo.full_name(), comment.id),
        "html_url": format!("https://github.example/{}/issues/{}#issuecomment-{}", repo.full_name(), issue.number, comment.id),
        "issue_url": format!("{base}/repos/{}/issues/{}", repo.full_name(), issue.number),
        "body": comment.body,
        "user": user(base, &comment.user),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.created_at),
        "author_association": "CONTRIBUTOR"
    })
}

/// An issue node as GraphQL renders the fields Symphony's `SymphonyIssue` fragment asks for.
pub(crate) fn issue_node(repo: &Repo, issue: &FakeIssue) -> Value {
    if issue.pull.is_some() {
        return json!({ "__typename": "PullRequest" });
    }
    let blockers: Vec<Value> = issue
        .blocked_by
        .iter()
        .filter_map(|n| repo.issue(*n))
        .map(|b| {
            json!({
                "id": b.node_id, "number": b.number,
                "state": if b.open { "OPEN" } else { "CLOSED" },
                "repository": { "nameWithOwner": repo.full_name() }
            })
        })
        .collect();
    json!({
        "__typename": "Issue",
        "id": issue.node_id,
        "number": issue.number,
        "title": if issue.corrupt { Value::Null } else { json!(issue.title) },
        "body": issue.body.clone().unwrap_or_default(),
        "state": if issue.open { "OPEN" } else { "CLOSED" },
        "url": format!("https://github.example/{}/issues/{}", repo.full_name(), issue.number),
        "createdAt": timestamp(issue.created_at),
        "updatedAt": timestamp(issue.updated_at),
        "repository": { "nameWithOwner": repo.full_name() },
        "labels": { "nodes": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>() },
        "assignees": { "nodes": issue.assignees.iter().map(|a| json!({"login": a})).collect::<Vec<_>>() },
        "blockedBy": { "totalCount": issue.blocked_by.len(), "nodes": blockers }
    })
}

/// A repository as REST renders it inside pull requests.
pub(crate) fn repository_json(base: &str, repo: &Repo) -> Value {
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}");
    let web = format!("https://github.example/{full}");
    let open = repo.issues.iter().filter(|i| i.open).count();
    let mut value = json!({
        "id": repo.id, "node_id": format!("R_fake{}", repo.id), "name": repo.name,
        "full_name": full, "owner": user(base, &repo.owner), "private": false,
        "html_url": web, "description": null, "fork": false, "url": api,
        "git_url": format!("git://github.example/{full}.git"),
        "ssh_url": format!("git@github.example:{full}.git"),
        "clone_url": format!("{web}.git"), "svn_url": web,
        "mirror_url": null, "homepage": null, "language": null,
        "forks_count": 0, "forks": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
        "size": 0, "default_branch": "main", "open_issues_count": open, "open_issues": open,
        "has_issues": true, "has_projects": true, "has_wiki": false, "has_pages": false,
        "has_downloads": false, "archived": false, "disabled": false, "license": null,
        "pushed_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z"
    });
    // The hypermedia URL templates GitHub puts on every repository.
    for (key, path) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        value[key] = json!(format!("{api}{path}"));
    }
    value
}

/// A pull request as the pulls endpoints render it.
pub(crate) fn pull_json(base: &str, repo: &Repo, issue: &FakeIssue) -> Value {
    let pull = issue
        .pull
        .clone()
        .unwrap_or_else(|| PullRequest::new("", "main", ""));
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}");
    let url = format!("{api}/pulls/{}", issue.number);
    let web = format!("https://github.example/{full}/pull/{}", issue.number);
    let link = |href: String| json!({ "href": href });
    let side = |branch: &str, sha: &str| {
        json!({
            "label": format!("{}:{branch}", repo.owner), "ref": branch, "sha": sha,
            "repo": repository_json(base, repo), "user": user(base, &repo.owner)
        })
    };
    let labels: Vec<Value> = issue
        .labels
        .iter()
        .filter_map(|name| repo.labels.iter().find(|l| &l.name == name))
        .map(|l| label_json(base, repo, l))
        .collect();
    let links = json!({
        "self": link(url.clone()), "html": link(web.clone()),
        "issue": link(format!("{api}/issues/{}", issue.number)),
        "comments": link(format!("{api}/issues/{}/comments", issue.number)),
        "review_comments": link(format!("{url}/comments")),
        "review_comment": link(format!("{api}/pulls/comments{{/number}}")),
        "commits": link(format!("{url}/commits")),
        "statuses": link(format!("{api}/statuses/{}", pull.head_sha))
    });
    let mut value = json!({
        "url": url, "id": issue.id, "node_id": format!("PR_fake{}", issue.id),
        "html_url": web, "diff_url": format!("{web}.diff"), "patch_url": format!("{web}.patch"),
        "issue_url": format!("{api}/issues/{}", issue.number),
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{}/comments", issue.number),
        "statuses_url": format!("{api}/statuses/{}", pull.head_sha),
        "number": issue.number, "state": if issue.open { "open" } else { "closed" },
        "locked": false, "title": issue.title, "user": user(base, "symphony-bot"),
        "body": issue.body, "labels": labels, "milestone": null,
        "created_at": timestamp(issue.created_at), "updated_at": timestamp(issue.updated_at),
        "closed_at": issue.closed_at.map(timestamp),
        "head": side(&pull.head, &pull.head_sha), "base": side(&pull.base, &"0".repeat(40)),
        "_links": links, "draft": pull.draft, "comments": issue.comments.len()
    });
    // GitHub says `dirty` for a pull request that conflicts with its base, `unknown` while it
    // has not computed mergeability.
    let mergeable_state = match pull.mergeable {
        Some(true) => "clean",
        Some(false) => "dirty",
        None => "unknown",
    };
    let merged_at = (pull.merged)
        .then(|| issue.closed_at.map(timestamp))
        .flatten();
    let rest = json!({
        "active_lock_reason": null, "merged_at": merged_at,
        "merge_commit_sha": if pull.merged { json!(pull.head_sha) } else { Value::Null },
        "assignee": null, "assignees": [],
        "requested_reviewers": pull.requested_reviewers.iter().map(|l| user(base, l)).collect::<Vec<_>>(),
        "requested_teams": [],
        "author_association": "CONTRIBUTOR", "auto_merge": null, "merged": pull.merged,
        "mergeable": pull.mergeable, "rebaseable": pull.mergeable,
        "mergeable_state": mergeable_state,
        "merged_by": if pull.merged { user(base, "octo-maintainer") } else { Value::Null },
        "review_comments": pull.review_comments.len(), "maintainer_can_modify": false,
        "commits": 1, "additions": 0, "deletions": 0, "changed_files": 0
    });
    if let (Some(map), Value::Object(more)) = (value.as_object_mut(), rest) {
        map.extend(more);
    }
    value
}

/// A commit status as REST renders it.
pub(crate) fn status_json(base: &str, repo: &Repo, id: u64, status: &CommitStatus) -> Value {
    json!({
        "id": id, "node_id": format!("SC_fake{id}"),
        "url": format!("{base}/repos/{}/statuses/{}", repo.full_name(), status.sha),
        "avatar_url": null, "state": status.state, "description": status.description,
        "target_url": null, "context": status.context,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "creator": user(base, "symphony-bot")
    })
}

/// A check run as REST renders it.
pub(crate) fn check_run_json(base: &str, repo: &Repo, run: &CheckRun) -> Value {
    let output = &run.output;
    let text = |key: &str| {
        output
            .get(key)
            .cloned()
            .filter(Value::is_string)
            .unwrap_or(Value::Null)
    };
    let annotations = output
        .get("annotations")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let url = format!("{base}/repos/{}/check-runs/{}", repo.full_name(), run.id);
    json!({
        "id": run.id, "node_id": format!("CR_fake{}", run.id), "head_sha": run.head_sha,
        "external_id": "", "url": url,
        "html_url": format!("https://github.example/{}/runs/{}", repo.full_name(), run.id),
        "details_url": null, "status": run.status, "conclusion": run.conclusion,
        "started_at": "2026-01-01T00:00:00Z",
        "completed_at": if run.status == "completed" { json!("2026-01-01T00:00:01Z") } else { Value::Null },
        "output": {
            "title": text("title"), "summary": text("summary"), "text": text("text"),
            "annotations_count": annotations, "annotations_url": format!("{url}/annotations")
        },
        "name": run.name, "check_suite": { "id": run.id + 1 },
        "app": run.app.as_deref().map_or(Value::Null, |slug| app_json(base, slug)),
        "pull_requests": []
    })
}

/// The app `slug` as check runs name their owner.
pub(crate) fn app_json(base: &str, slug: &str) -> Value {
    let id = slug
        .bytes()
        .fold(11u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 100_000;
    json!({
        "id": id, "slug": slug, "node_id": format!("A_fake{id}"),
        "owner": user(base, slug), "name": slug, "description": null,
        "external_url": format!("https://{slug}.example"),
        "html_url": format!("https://github.example/apps/{slug}"),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "permissions": {"checks": "write"}, "events": ["check_run"]
    })
}
