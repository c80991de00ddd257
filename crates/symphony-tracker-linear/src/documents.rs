//! Every GraphQL document the adapter sends, in one place: `cargo xtask linear` validates each
//! against Linear's published schema and regenerates the subset the fake validates against.

/// The fields of an issue the adapter normalizes (SPEC §4.1.1), blockers included. The
/// nested connections are kept small: Linear multiplies an issue's cost by the page size and
/// refuses a query over 10 000 complexity points (about 65 points an issue here).
pub(crate) const ISSUE_FIELDS: &str = "fragment SymphonyIssue on Issue {
  id identifier title description priority url branchName createdAt updatedAt
  state { name type }
  team { id key }
  project { slugId }
  assignee { id email isMe }
  labels(first: 20) { nodes { name } }
  inverseRelations(first: 10) { nodes { type issue { id identifier state { name type } } } }
}";

/// A page of issues matching a filter, in creation order (stable cursors).
pub(crate) const ISSUES: &str =
    "query SymphonyIssues($filter: IssueFilter!, $first: Int!, $after: String) {
  issues(filter: $filter, first: $first, after: $after, orderBy: createdAt) {
    nodes { ...SymphonyIssue }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The newest change in scope: where the next incremental poll starts.
pub(crate) const NEWEST: &str = "query SymphonyNewest($filter: IssueFilter!) {
  issues(filter: $filter, first: 1, orderBy: updatedAt) { nodes { updatedAt } }
}";

/// The team's workflow state of a name (hand-off resolves the id to move to).
pub(crate) const STATES: &str = "query SymphonyStates($filter: WorkflowStateFilter!) {
  workflowStates(filter: $filter, first: 50) { nodes { id name type team { key } } }
}";

/// Moves an issue (a set: safe to repeat).
pub(crate) const MOVE: &str = "mutation SymphonyMove($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { id state { name } } }
}";

/// Comments on an issue (an addition: never repeated).
pub(crate) const COMMENT: &str = "mutation SymphonyComment($issueId: String!, $body: String!) {
  commentCreate(input: { issueId: $issueId, body: $body }) { success }
}";

/// Where an issue lives, for the tool's scope check.
pub(crate) const SCOPE: &str = "query SymphonyScope($id: String!) {
  issue(id: $id) { id state { name } team { id key } project { slugId } }
}";

/// Documents the `linear_graphql` tool's description offers the agent as examples: checked
/// against Linear's schema with the adapter's own, so what the agent is shown is valid.
pub fn tool_examples() -> Vec<String> {
    [
        "query($id: String!) { issue(id: $id) { identifier title description state { name } \
         comments { nodes { body } } } }",
        "mutation($id: String!, $body: String!) { commentCreate(input: { issueId: $id, body: $body }) \
         { success } }",
        "mutation($id: String!, $stateId: String!) { issueUpdate(id: $id, input: { stateId: $stateId }) \
         { success issue { state { name } } } }",
        "query($team: String!) { team(id: $team) { key states { nodes { id name type } } } }",
        "mutation($id: String!, $url: String!, $title: String) { attachmentLinkURL(issueId: $id, \
         url: $url, title: $title) { success } }",
        "mutation($id: String!, $blocked: String!) { issueRelationCreate(input: { issueId: $id, \
         relatedIssueId: $blocked, type: blocks }) { success } }",
        "query { viewer { id email } }",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A document with the issue fragment appended when it uses it.
pub(crate) fn with_fragment(document: &str) -> String {
    if document.contains("...SymphonyIssue") {
        format!("{document}\n{ISSUE_FIELDS}")
    } else {
        document.to_owned()
    }
}

/// Every document the adapter sends, as sent (for schema checks).
pub fn sent_documents() -> Vec<String> {
    [ISSUES, NEWEST, STATES, MOVE, COMMENT, SCOPE]
        .into_iter()
        .map(with_fragment)
        .collect()
}
