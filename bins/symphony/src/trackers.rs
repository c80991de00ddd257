//! The tracker kinds this binary supports, as configuration profiles.

use std::sync::Arc;

use symphony_workflow::TrackerRegistry;

/// Every tracker kind `symphony` can be configured with.
pub fn registry() -> TrackerRegistry {
    TrackerRegistry::new().with(Arc::new(symphony_tracker_local::LocalProfile))
}
