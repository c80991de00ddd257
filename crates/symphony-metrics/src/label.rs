//! Label sets. prometheus-client escapes label values itself (a gate name from the workflow
//! with a `"` or a newline cannot break the exposition; `tests/exposition.rs` checks it).

/// `N` `(label, value)` pairs.
pub(crate) type Labels<const N: usize> = [(&'static str, String); N];

/// The label set of `pairs`.
pub(crate) fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels<N> {
    pairs.map(|(key, value)| (key, value.to_owned()))
}
