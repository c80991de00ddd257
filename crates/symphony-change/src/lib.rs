//! What an agent changed: every file that differs between the workspace's base commit and
//! its working tree (committed or not, new files included, ignored files excluded), with the
//! lines it adds, the branch's own commits, and the tree that snapshot is.
//!
//! One definition serves everyone who asks "what changed": the gates judge a [`ChangeSet`],
//! and the hand-off commits exactly its [`ChangeSet::tree`], so what is proposed is what was
//! judged (docs/adr/0015). `git` computes it against a throwaway copy of the index, so the
//! agent's own index is never touched: `GIT_INDEX_FILE=<copy> git add -A`, `git write-tree`,
//! then `git diff <base> <tree>`. Using the `git` program (not a re-implementation) means the
//! user's ignore rules, attributes and clean filters apply as they would to their own commit.

mod change_set;
mod error;
mod parse;
mod read;

pub use change_set::{AddedLine, ChangeSet, ChangedFile, CommitPatch, FileChange};
pub use error::ChangeError;
pub use read::MAX_HISTORY_COMMITS;
