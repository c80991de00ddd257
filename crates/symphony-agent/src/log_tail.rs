//! The end of an agent's diagnostic log, for the error that says why it stopped.

/// The last `max` bytes of `path`, read on a blocking thread (the log may be large; only its
/// end is read).
pub async fn log_tail(path: &std::path::Path, max: usize) -> String {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut file) = std::fs::File::open(&path) else {
            return String::new();
        };
        let length = file.metadata().map_or(0, |m| m.len());
        let start = length.saturating_sub(max as u64);
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(start)).is_err()
            || file.take(max as u64).read_to_end(&mut bytes).is_err()
        {
            return String::new();
        }
        String::from_utf8_lossy(&bytes).trim().to_owned()
    })
    .await
    .unwrap_or_default()
}
