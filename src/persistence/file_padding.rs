//! Pre-allocation of txn log files: the file is grown in `preAllocSize`
//! steps (sparse zeros) so that appends rarely change the file's size,
//! which makes each fsync cheaper. The zeros also mark the end of the
//! written part for readers (a zero record length). Runs on the thread
//! that appends (the SyncRequestProcessor thread).
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.FilePadding`.

use std::fs::File;
use std::io;

/// Default `zookeeper.preAllocSize`: 64 MiB.
pub const DEFAULT_PRE_ALLOC_SIZE: u64 = 65536 * 1024;

/// Tracks the padded size of one log file.
#[derive(Debug, Clone)]
pub struct FilePadding {
    /// Bytes to add each time the write position nears the end; 0 turns
    /// pre-allocation off.
    pre_alloc_size: u64,
    /// The size the file has been padded to so far.
    current_size: u64,
}

impl FilePadding {
    /// Padding for a new file whose header ends at `current_size`.
    pub fn new(pre_alloc_size: u64, current_size: u64) -> FilePadding {
        FilePadding {
            pre_alloc_size,
            current_size,
        }
    }

    /// The size the file has been padded to.
    pub fn current_size(&self) -> u64 {
        self.current_size
    }

    /// Grows `file` if `position` (where the next record goes) is within
    /// 4 KiB of the padded end. Returns the padded size.
    pub fn pad_file(&mut self, file: &File, position: u64) -> io::Result<u64> {
        let new_size = size_with_padding(position, self.current_size, self.pre_alloc_size);
        if new_size != self.current_size {
            // Java writes one zero byte at the new last offset; extending
            // the length gives the same sparse, zero-filled file.
            if file.metadata()?.len() < new_size {
                file.set_len(new_size)?;
            }
            self.current_size = new_size;
        }
        Ok(self.current_size)
    }
}

/// The padded size for a write at `position` in a file padded to
/// `file_size`: unchanged unless within 4096 bytes of the end; then one
/// more step, or (if the writes overtook the padding) the next multiple of
/// the step past the position.
pub fn size_with_padding(position: u64, file_size: u64, pre_alloc_size: u64) -> u64 {
    if pre_alloc_size == 0 || position + 4096 < file_size {
        return file_size;
    }
    if position > file_size {
        let size = position + pre_alloc_size;
        size - size % pre_alloc_size
    } else {
        file_size + pre_alloc_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_only_near_the_end() {
        let step = 1000;
        // Fresh file: header written, size 16 -> one step more.
        assert_eq!(size_with_padding(16, 16, step), 1016);
        // Far from the end: unchanged.
        assert_eq!(size_with_padding(16, 100_000, step), 100_000);
        // Exactly 4096 before the end still pads (Java's >=).
        assert_eq!(size_with_padding(5000, 9096, step), 10_096);
        assert_eq!(size_with_padding(5000, 9097, step), 9097);
    }

    #[test]
    fn overtaken_padding_rounds_to_a_step_multiple() {
        assert_eq!(size_with_padding(2500, 1016, 1000), 3000);
    }

    #[test]
    fn zero_step_disables_padding() {
        assert_eq!(size_with_padding(5000, 16, 0), 16);
    }

    #[test]
    fn pad_file_grows_a_real_file() {
        let path = std::env::temp_dir().join(format!("zkrs-pad-{}", std::process::id()));
        let file = File::create(&path).unwrap();
        let mut padding = FilePadding::new(64 * 1024, 16);
        assert_eq!(padding.pad_file(&file, 16).unwrap(), 16 + 64 * 1024);
        assert_eq!(file.metadata().unwrap().len(), 16 + 64 * 1024);
        // Still far from the end: no change.
        assert_eq!(padding.pad_file(&file, 100).unwrap(), 16 + 64 * 1024);
        std::fs::remove_file(&path).unwrap();
    }
}
