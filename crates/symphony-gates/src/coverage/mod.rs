//! Line coverage reports, read into one shape: for each file, the executable lines and how
//! often each ran. Three formats, as the tools that write them document them: lcov's tracefile
//! (`lcov.rs`), Cobertura XML (`cobertura.rs`) and `llvm-cov export` JSON (`llvm.rs`). A report
//! that cannot be read is an error, never an empty report.

mod cobertura;
mod lcov;
mod lines;
mod llvm;

use std::path::Path;

pub use lines::Coverage;

/// A report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoverageFormat {
    /// lcov's tracefile (`SF:`, `DA:line,count`, `end_of_record`).
    Lcov,
    /// Cobertura XML (`<class filename=...><lines><line number= hits=/>`).
    Cobertura,
    /// `llvm-cov export -format=text` JSON (segments per file).
    LlvmJson,
}

impl CoverageFormat {
    /// By its configuration name: `lcov`, `cobertura`, `llvm-json`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "lcov" => Some(Self::Lcov),
            "cobertura" => Some(Self::Cobertura),
            "llvm-json" => Some(Self::LlvmJson),
            _ => None,
        }
    }
}

impl Coverage {
    /// Reads `bytes` as `format`; paths are made relative to `workspace` where they are
    /// under it. An unreadable report says why.
    pub fn parse(format: CoverageFormat, bytes: &[u8], workspace: &Path) -> Result<Self, String> {
        let coverage = match format {
            CoverageFormat::Lcov => lcov::parse(bytes)?,
            CoverageFormat::Cobertura => cobertura::parse(bytes)?,
            CoverageFormat::LlvmJson => llvm::parse(bytes)?,
        };
        Ok(coverage.relative_to(workspace))
    }
}
