//! End-to-end scenarios across Symphony's crates live in `tests/*.rs` beside this file; the
//! library itself is empty. Scenarios that drive the `symphony` binary live with the binary
//! (`bins/symphony/tests`), where cargo exposes its path.
