//! Images next to a local post (a Hugo page bundle): read from disk through the same
//! store, but only from inside the post's folder.

use super::{
    FailKind, Failure, Fetched, Got, Job, JobSource, keep, store_error, too_large, unix_now,
};
use crate::archive::Store;
use std::io::Read;
use std::time::Instant;

pub async fn fetch(job: Job, store: Store, max_bytes: u64) -> Fetched {
    let started = unix_now();
    let clock = Instant::now();
    let outcome = tokio::task::spawn_blocking({
        let job = job.clone();
        move || read(&job, &store, max_bytes)
    })
    .await
    .unwrap_or_else(|e| {
        Err(Failure {
            kind: FailKind::StoreError,
            reason: format!("reading stopped: {e}"),
        })
    });
    Fetched::new(&job, started, clock, outcome)
}

fn read(job: &Job, store: &Store, max_bytes: u64) -> Result<Got, Failure> {
    let JobSource::Local { path, folder } = &job.from else {
        unreachable!("local jobs only");
    };
    let not_found = |e: std::io::Error| Failure {
        kind: FailKind::NotFound,
        reason: format!("{}: {e}; put the image next to the post", path.display()),
    };
    let real = std::fs::canonicalize(path).map_err(not_found)?;
    let real_folder = std::fs::canonicalize(folder).map_err(not_found)?;
    if !real.starts_with(&real_folder) {
        return Err(Failure {
            kind: FailKind::RefusedLocalPath,
            reason: format!(
                "{} leads outside the post's folder (a symlink?); it is not read",
                path.display()
            ),
        });
    }
    let mut file = std::fs::File::open(&real).map_err(not_found)?;
    let mut incoming = store.incoming().map_err(store_error)?;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(not_found)?;
        if n == 0 {
            break;
        }
        if incoming.bytes() + n as u64 > max_bytes {
            return Err(too_large(max_bytes));
        }
        incoming.write(&buffer[..n]).map_err(store_error)?;
    }
    Ok(Got::Stored(keep(incoming, store)?))
}
