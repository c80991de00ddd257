//! What people and other apps do to a pull request after it opens, for tests to script: a
//! review with inline comments, a reply, a check run of another app, a push to the branch, a
//! conflict with the base, a merge.

use super::fake::FakeGithub;
use super::model::{CheckRun, Comment, Review, ReviewComment};

impl FakeGithub {
    fn with_pull<T>(
        &self,
        full_name: &str,
        number: u64,
        change: impl FnOnce(&mut super::model::World, usize) -> T,
    ) -> T {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let repo = world.repo_index(owner, name).expect("repo exists");
        assert!(
            world.repos[repo].pull(number).is_some(),
            "pull request {full_name}#{number} exists"
        );
        change(world, repo)
    }

    /// `user` reviews pull request `number`: `state` (`APPROVED`, `CHANGES_REQUESTED`,
    /// `COMMENTED`) with `body` and inline `comments` (`path`, `line`, `text`), on the current
    /// head. Returns the review's id and its comments' ids.
    pub fn review_pull(
        &self,
        full_name: &str,
        number: u64,
        user: &str,
        state: &str,
        body: &str,
        comments: &[(&str, u32, &str)],
    ) -> (u64, Vec<u64>) {
        self.with_pull(full_name, number, |world, repo| {
            let now = world.tick();
            let review_id = world.fresh_id();
            let ids: Vec<u64> = comments.iter().map(|_| world.fresh_id()).collect();
            let issue = world.repos[repo].issue_mut(number).expect("exists");
            issue.updated_at = now;
            let pull = issue.pull.as_mut().expect("a pull request");
            let head = pull.head_sha.clone();
            for (id, (path, line, text)) in ids.iter().zip(comments) {
                pull.review_comments.push(ReviewComment {
                    id: *id,
                    review_id: Some(review_id),
                    user: user.to_owned(),
                    path: (*path).to_owned(),
                    line: Some(*line),
                    body: (*text).to_owned(),
                    commit_id: head.clone(),
                    in_reply_to: None,
                    created_at: now,
                });
            }
            // A review answers the request for it.
            pull.requested_reviewers.retain(|r| r != user);
            pull.reviews.push(Review {
                id: review_id,
                user: user.to_owned(),
                state: state.to_owned(),
                body: body.to_owned(),
                commit_id: head,
                submitted_at: now,
            });
            (review_id, ids)
        })
    }

    /// `app` reports check `name` on commit `sha` as completed with `conclusion` and
    /// `summary`. Returns the run's id.
    pub fn add_check_run(
        &self,
        full_name: &str,
        sha: &str,
        app: &str,
        name: &str,
        conclusion: &str,
        summary: &str,
    ) -> u64 {
        let (owner, repo_name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let repo = world.repo_index(owner, repo_name).expect("repo exists");
        let id = world.fresh_id();
        world.repos[repo].check_runs.push(CheckRun {
            id,
            head_sha: sha.to_owned(),
            name: name.to_owned(),
            status: "completed".to_owned(),
            conclusion: Some(conclusion.to_owned()),
            output: serde_json::json!({"title": name, "summary": summary}),
            annotations: Vec::new(),
            app: Some(app.to_owned()),
        });
        id
    }

    /// Someone pushed `sha` to `branch`, and GitHub has not yet moved the open pull requests of
    /// that branch to it (it does a moment after the push): only the branch moves.
    pub fn push_branch_before_pulls_follow(&self, full_name: &str, branch: &str, sha: &str) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let repo = world.repo_index(owner, name).expect("repo exists");
        world.repos[repo]
            .branches
            .insert(branch.to_owned(), sha.to_owned());
    }

    /// Someone pushed `sha` to `branch`: open pull requests of that branch move to it. As on
    /// GitHub, open pull requests from or into the branch must have their mergeability
    /// computed again: `mergeable` is `null` until [`Self::set_mergeable`] says.
    pub fn push_branch(&self, full_name: &str, branch: &str, sha: &str) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let now = world.tick();
        let repo = world.repo_index(owner, name).expect("repo exists");
        let r = &mut world.repos[repo];
        r.branches.insert(branch.to_owned(), sha.to_owned());
        for issue in r.issues.iter_mut().filter(|i| i.open) {
            let Some(pull) = issue.pull.as_mut() else {
                continue;
            };
            if pull.head == branch {
                pull.head_sha = sha.to_owned();
            }
            if pull.head == branch || pull.base == branch {
                pull.mergeable = None;
                issue.updated_at = now;
            }
        }
    }

    /// Whether pull request `number` merges cleanly (`None`: not computed yet).
    pub fn set_mergeable(&self, full_name: &str, number: u64, mergeable: Option<bool>) {
        self.with_pull(full_name, number, |world, repo| {
            let now = world.tick();
            let issue = world.repos[repo].issue_mut(number).expect("exists");
            issue.updated_at = now;
            issue.pull.as_mut().expect("a pull request").mergeable = mergeable;
        });
    }

    /// `user` comments `body` on issue or pull request `number` (the conversation, not a
    /// review). Returns the comment's id.
    pub fn comment_as(&self, full_name: &str, number: u64, user: &str, body: &str) -> u64 {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let now = world.tick();
        let id = world.fresh_id();
        let repo = world.repo_index(owner, name).expect("repo exists");
        let issue = world.repos[repo].issue_mut(number).expect("issue exists");
        issue.comments.push(Comment {
            id,
            body: body.to_owned(),
            user: user.to_owned(),
            created_at: now,
        });
        issue.updated_at = now;
        id
    }

    /// A maintainer merges pull request `number` (it closes, merged).
    pub fn merge_pull(&self, full_name: &str, number: u64) {
        self.with_pull(full_name, number, |world, repo| {
            let now = world.tick();
            let issue = world.repos[repo].issue_mut(number).expect("exists");
            issue.open = false;
            issue.closed_at = Some(now);
            issue.updated_at = now;
            issue.pull.as_mut().expect("a pull request").merged = true;
        });
    }
}
