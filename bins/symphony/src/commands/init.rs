//! `symphony init`: write a commented starter WORKFLOW.md.

use std::io::Write as _;
use std::path::Path;

use crate::failure::Failure;

/// The starter workflow; `symphony check` accepts it as written.
pub const STARTER: &str = include_str!("../../templates/WORKFLOW.md");

pub fn run(path: &Path, force: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: never clobber an existing workflow, even in a race.
        options.create_new(true);
    }
    let written = options
        .open(path)
        .and_then(|mut file| file.write_all(STARTER.as_bytes()));
    match written {
        Ok(()) => {
            println!("wrote {}", path.display());
            println!(
                "next: edit it, then run `symphony check {}`",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Failure::new(
            "workflow_exists",
            format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ),
        )),
        Err(e) => Err(Failure::new(
            "io_error",
            format!("cannot write {}: {e}", path.display()),
        )),
    }
}
