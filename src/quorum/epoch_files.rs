//! `acceptedEpoch` and `currentEpoch` at startup: the values found on disk
//! checked against the last zxid of the database, with Java's defaults for
//! missing files and its refusals for inconsistent ones.
//!
//! The decision ([`check_epochs`]) is pure; [`load_epochs`] reads and
//! writes the files through the database's helpers. Runs once on the main
//! thread before the election starts.
//!
//! Mirrors: `QuorumPeer.loadDataBase` (the epoch half).

use std::fmt;

use log::info;

use super::vote::epoch_of_zxid;
use crate::server::zk_database::{ZkDatabase, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};

/// The epochs in force, and which files must be (re)written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epochs {
    /// The epoch this server is in (the FLE vote's peerEpoch).
    pub current: i64,
    /// The last epoch this server accepted from a leader.
    pub accepted: i64,
    /// `currentEpoch` must be written (missing, or restored from `.tmp`).
    pub write_current: bool,
    /// `acceptedEpoch` must be written (missing).
    pub write_accepted: bool,
}

/// Why the epochs cannot be trusted; Java refuses to start.
#[derive(Debug)]
pub enum EpochError {
    /// `currentEpoch` is older than the last zxid and no `.tmp` explains it.
    CurrentOlderThanZxid { current: i64, last_zxid: i64 },
    /// `acceptedEpoch` < `currentEpoch`.
    AcceptedBelowCurrent { accepted: i64, current: i64 },
    /// A file could not be read or written.
    Persistence(crate::persistence::Error),
}

impl fmt::Display for EpochError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpochError::CurrentOlderThanZxid { current, last_zxid } => write!(
                f,
                "The current epoch, 0x{:x}, is older than the last zxid, {}",
                current, last_zxid
            ),
            EpochError::AcceptedBelowCurrent { accepted, current } => write!(
                f,
                "The accepted epoch, 0x{:x} is less than the current epoch, 0x{:x}",
                accepted, current
            ),
            EpochError::Persistence(e) => write!(f, "epoch files: {}", e),
        }
    }
}

impl std::error::Error for EpochError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EpochError::Persistence(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::persistence::Error> for EpochError {
    fn from(e: crate::persistence::Error) -> EpochError {
        EpochError::Persistence(e)
    }
}

/// Decides the epochs from what is on disk (`None` = file missing).
pub fn check_epochs(
    last_zxid: i64,
    current: Option<i64>,
    current_tmp: Option<i64>,
    accepted: Option<i64>,
) -> Result<Epochs, EpochError> {
    let zxid_epoch = epoch_of_zxid(last_zxid);
    let mut write_current = current.is_none();
    let mut current = current.unwrap_or(zxid_epoch);
    if zxid_epoch > current {
        match current_tmp {
            Some(tmp) => {
                current = tmp;
                write_current = true;
            }
            None => return Err(EpochError::CurrentOlderThanZxid { current, last_zxid }),
        }
    }
    let write_accepted = accepted.is_none();
    let accepted = accepted.unwrap_or(zxid_epoch);
    if accepted < current {
        return Err(EpochError::AcceptedBelowCurrent { accepted, current });
    }
    Ok(Epochs {
        current,
        accepted,
        write_current,
        write_accepted,
    })
}

/// Reads, checks and (where Java does) writes the epoch files.
pub fn load_epochs(db: &ZkDatabase, last_zxid: i64) -> Result<Epochs, EpochError> {
    let current = db.read_epoch(CURRENT_EPOCH_FILE)?;
    let tmp_name = format!("{}.tmp", CURRENT_EPOCH_FILE);
    let current_tmp = db.read_epoch(&tmp_name)?;
    let accepted = db.read_epoch(ACCEPTED_EPOCH_FILE)?;
    let epochs = check_epochs(last_zxid, current, current_tmp, accepted)?;
    if epochs.write_current {
        if current.is_none() {
            info!(
                "{} not found! Creating with a reasonable default of {}. This should only happen when you are upgrading your installation",
                CURRENT_EPOCH_FILE, epochs.current
            );
        } else {
            info!(
                "{} found. Setting current epoch to {}.",
                tmp_name, epochs.current
            );
        }
        db.write_epoch(CURRENT_EPOCH_FILE, epochs.current)?;
    }
    if epochs.write_accepted {
        info!(
            "{} not found! Creating with a reasonable default of {}. This should only happen when you are upgrading your installation",
            ACCEPTED_EPOCH_FILE, epochs.accepted
        );
        db.write_epoch(ACCEPTED_EPOCH_FILE, epochs.accepted)?;
    }
    Ok(epochs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_rules_table() {
        let z = |epoch: i64, counter: i64| (epoch << 32) | counter;
        let ok = |current, accepted, wc, wa| {
            Ok(Epochs {
                current,
                accepted,
                write_current: wc,
                write_accepted: wa,
            })
        };
        let cases = [
            // (last zxid, currentEpoch, currentEpoch.tmp, acceptedEpoch) → result
            (0, None, None, None, ok(0, 0, true, true)),
            (z(3, 5), None, None, None, ok(3, 3, true, true)),
            (z(3, 5), Some(3), None, Some(4), ok(3, 4, false, false)),
            (z(3, 5), Some(4), None, Some(4), ok(4, 4, false, false)),
            (z(3, 5), Some(2), Some(3), Some(3), ok(3, 3, true, false)),
            (
                z(3, 5),
                Some(2),
                None,
                Some(3),
                Err(EpochError::CurrentOlderThanZxid {
                    current: 2,
                    last_zxid: z(3, 5),
                }),
            ),
            (
                z(3, 5),
                Some(4),
                None,
                Some(3),
                Err(EpochError::AcceptedBelowCurrent {
                    accepted: 3,
                    current: 4,
                }),
            ),
            (z(3, 5), Some(3), None, None, ok(3, 3, false, true)),
        ];
        for (zxid, current, tmp, accepted, expected) in cases {
            // EpochError holds I/O errors, which do not compare: compare
            // what the decision says.
            assert_eq!(
                format!("{:?}", check_epochs(zxid, current, tmp, accepted)),
                format!("{:?}", expected),
                "{:?}",
                (zxid, current, tmp, accepted)
            );
        }
    }
}
