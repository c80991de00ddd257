//! Every document the adapter sends, and every example its tool shows the agent, is valid on
//! Linear's published schema (the subset `cargo xtask linear` generates from `@linear/sdk`).

#[test]
fn every_document_is_valid_on_linears_schema() {
    let documents: Vec<String> = symphony_tracker_linear::sent_documents()
        .into_iter()
        .chain(symphony_tracker_linear::documents::tool_examples())
        .collect();
    assert!(documents.len() >= 10);
    for document in documents {
        if let Err(problems) = symphony_testkit::linear::schema::validate(&document) {
            panic!("{document}\nis not valid on Linear's schema: {problems:#?}");
        }
    }
}
