//! The GraphQL documents Symphony sends. Each is named, so GitHub's logs (and the fake's
//! dispatcher) can tell them apart.

/// Fields read from every `Issue` node. `$status`/`$priority` name board fields; they are
/// declared by every query that includes this fragment.
pub const ISSUE_FIELDS: &str = "fragment SymphonyIssue on Issue {
  id number title body state url createdAt updatedAt
  repository { nameWithOwner }
  labels(first: 100) { nodes { name } }
  assignees(first: 20) { nodes { login } }
  blockedBy(first: 50) { totalCount nodes { id number state repository { nameWithOwner } } }
}";

/// Refresh by node id: one query per 100 ids (GitHub's `nodes` limit).
pub const REFRESH: &str = "query SymphonyRefresh($ids: [ID!]!) {
  nodes(ids: $ids) { __typename ...SymphonyIssue }
}";

/// Refresh under the `project` source: the same, plus the issue's items on boards.
pub const REFRESH_WITH_PROJECT: &str =
    "query SymphonyRefreshProject($ids: [ID!]!, $status: String!, $priority: String!) {
  nodes(ids: $ids) {
    __typename
    ...SymphonyIssue
    ... on Issue {
      projectItems(first: 50) {
        nodes {
          id
          project { number owner { ... on Organization { login } ... on User { login } } }
          status: fieldValueByName(name: $status) { ...SymphonyFieldValue }
          priority: fieldValueByName(name: $priority) { ...SymphonyFieldValue }
        }
      }
    }
  }
}";

/// A board field's value, whichever type it is.
pub const FIELD_VALUE: &str = "fragment SymphonyFieldValue on ProjectV2ItemFieldValue {
  ... on ProjectV2ItemFieldSingleSelectValue { name }
  ... on ProjectV2ItemFieldNumberValue { number }
  ... on ProjectV2ItemFieldTextValue { text }
}";

/// The board's items, 100 per page.
pub const PROJECT_ITEMS: &str = "query SymphonyProjectItems($owner: String!, $number: Int!, $after: String, $status: String!, $priority: String!) {
  repositoryOwner(login: $owner) {
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        items(first: 100, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            id
            status: fieldValueByName(name: $status) { ...SymphonyFieldValue }
            priority: fieldValueByName(name: $priority) { ...SymphonyFieldValue }
            content { __typename ...SymphonyIssue }
          }
        }
      }
    }
  }
}";

/// A pull request's review threads, 100 per page: each thread's node id, whether it is
/// resolved, and the database id of its first comment (the REST id that names it).
pub const REVIEW_THREADS: &str =
    "query SymphonyReviewThreads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
      }
    }
  }
}";

/// Resolves one review thread.
pub const RESOLVE_THREAD: &str = "mutation SymphonyResolveThread($thread: ID!) {
  resolveReviewThread(input: { threadId: $thread }) { thread { id isResolved } }
}";

/// A document with the fragments it uses.
pub fn document(operation: &str) -> String {
    let mut doc = format!("{operation}\n{ISSUE_FIELDS}\n");
    if operation.contains("...SymphonyFieldValue") {
        doc.push_str(FIELD_VALUE);
        doc.push('\n');
    }
    doc
}

/// Every document the adapter sends, as it sends it (with the fragments it uses): what the
/// committed schema test and `cargo xtask graphql` check against GitHub's published GraphQL
/// schema ([`operation_name`] names each).
pub fn sent_documents() -> Vec<String> {
    let with_fragments = [REFRESH, REFRESH_WITH_PROJECT, PROJECT_ITEMS].map(document);
    let bare = [REVIEW_THREADS, RESOLVE_THREAD].map(str::to_owned);
    with_fragments.into_iter().chain(bare).collect()
}

/// The operation name of a document (`query Name(` or `mutation Name(` → `Name`).
pub fn operation_name(document: &str) -> Option<&str> {
    let document = document.trim_start();
    let rest = document
        .strip_prefix("query ")
        .or_else(|| document.strip_prefix("mutation "))?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}
