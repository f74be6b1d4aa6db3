//! Zero-copy reading of a frame already in memory: a `buffer` field read
//! as a slice of the frame instead of a new vector, and a way to turn the
//! frame itself into that field's bytes without allocating.
//!
//! The request path uses it for the payload of create and setData: the
//! frame's vector becomes the txn's data (one `memmove` inside the same
//! allocation), instead of a fresh copy per stage. The bytes read are
//! exactly those [`InputArchive::read_buffer`] would read, with the same
//! length checks and errors; nothing here changes what goes on the wire.
//!
//! No Java twin (Java shares the `byte[]` through the garbage collector).

use std::ops::Range;

use super::archive::InputArchive;
use super::error::{Error, Result};

impl<'a> InputArchive<&'a [u8]> {
    /// Reads a buffer as a slice of the input (`None` for the -1 of a null
    /// buffer), with the same checks as [`InputArchive::read_buffer`]: a
    /// length past the limit is `UnreasonableLength`, one past the end of
    /// the input is `Incomplete`.
    pub fn read_buffer_ref(&mut self) -> Result<Option<&'a [u8]>> {
        let Some(len) = self.read_length()? else {
            return Ok(None);
        };
        let rest: &'a [u8] = self.inner_slice();
        if rest.len() < len {
            // read_buffer consumes what there is before failing; so do we.
            self.set_inner_slice(&rest[rest.len()..]);
            return Err(Error::Incomplete);
        }
        let (field, tail) = rest.split_at(len);
        self.set_inner_slice(tail);
        Ok(Some(field))
    }

    fn inner_slice(&mut self) -> &'a [u8] {
        self.inner_mut()
    }

    fn set_inner_slice(&mut self, rest: &'a [u8]) {
        *self.inner_mut() = rest;
    }
}

/// Where `field` (a slice an archive over `frame` returned) lies in
/// `frame`; `None` if it is not inside.
pub fn range_in(frame: &[u8], field: &[u8]) -> Option<Range<usize>> {
    let start = (field.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
    let end = start.checked_add(field.len())?;
    (end <= frame.len()).then_some(start..end)
}

/// The bytes `frame[range]` as a vector that reuses `frame`'s allocation:
/// they are moved to the front and the rest is cut off (no allocation; the
/// spare capacity stays with the vector until it is dropped). An out of
/// bounds range gives an empty vector.
pub fn carve(mut frame: Vec<u8>, range: Range<usize>) -> Vec<u8> {
    if range.start > range.end || range.end > frame.len() {
        frame.clear();
        return frame;
    }
    let len = range.len();
    if range.start > 0 {
        frame.copy_within(range, 0);
    }
    frame.truncate(len);
    frame
}

#[cfg(test)]
mod tests {
    use super::super::proto::CreateRequest;
    use super::super::{from_bytes, to_bytes};
    use super::*;

    fn create_bytes(data: Option<Vec<u8>>) -> Vec<u8> {
        to_bytes(&CreateRequest {
            path: "/p".into(),
            data,
            acl: vec![],
            flags: 0,
        })
    }

    #[test]
    fn buffer_ref_reads_what_read_buffer_reads() {
        let bytes = create_bytes(Some(b"hello".to_vec()));
        let mut ia = InputArchive::new(&bytes[..]);
        assert_eq!(ia.read_string().unwrap(), "/p");
        let field = ia.read_buffer_ref().unwrap().unwrap();
        assert_eq!(field, b"hello");
        assert_eq!(
            ia.read_vector_len().unwrap(),
            0,
            "the archive moved past the buffer"
        );
        let range = range_in(&bytes, field).unwrap();
        assert_eq!(&bytes[range.clone()], b"hello");
        assert_eq!(carve(bytes.clone(), range), b"hello".to_vec());
        let full: CreateRequest = from_bytes(&bytes).unwrap();
        assert_eq!(full.data.as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn null_and_empty_buffers_stay_apart() {
        let bytes = create_bytes(None);
        let mut ia = InputArchive::new(&bytes[6..]);
        assert_eq!(ia.read_buffer_ref().unwrap(), None);
        let bytes = create_bytes(Some(Vec::new()));
        let mut ia = InputArchive::new(&bytes[6..]);
        assert_eq!(ia.read_buffer_ref().unwrap(), Some(&[][..]));
    }

    #[test]
    fn short_and_oversized_buffers_fail_like_read_buffer() {
        let bytes = [0, 0, 0, 5, 1, 2];
        assert!(matches!(
            InputArchive::new(&bytes[..]).read_buffer_ref(),
            Err(Error::Incomplete)
        ));
        assert!(matches!(
            InputArchive::new(&bytes[..]).read_buffer(),
            Err(Error::Incomplete)
        ));
        let bytes = [0x7f, 0xff, 0xff, 0xff, 1];
        assert!(matches!(
            InputArchive::new(&bytes[..]).read_buffer_ref(),
            Err(Error::UnreasonableLength(0x7fff_ffff))
        ));
        let bytes = [0xff, 0xff, 0xff, 0xfe];
        assert!(matches!(
            InputArchive::new(&bytes[..]).read_buffer_ref(),
            Err(Error::UnreasonableLength(-2))
        ));
        let bytes = [0, 0];
        assert!(InputArchive::new(&bytes[..]).read_buffer_ref().is_err());
    }

    #[test]
    fn carve_keeps_the_allocation_and_handles_edges() {
        let frame: Vec<u8> = (0u8..100).collect();
        let ptr = frame.as_ptr();
        let data = carve(frame, 10..60);
        assert_eq!(data, (10u8..60).collect::<Vec<_>>());
        assert_eq!(data.as_ptr(), ptr, "no new allocation");
        assert_eq!(carve(vec![1, 2, 3], 0..3), vec![1, 2, 3]);
        assert_eq!(carve(vec![1, 2, 3], 3..3), Vec::<u8>::new());
        assert_eq!(carve(vec![1, 2, 3], 2..5), Vec::<u8>::new());
        let v = [0u8; 10];
        assert_eq!(range_in(&v[..5], &v[4..8]), None, "runs past the frame");
        assert_eq!(range_in(&v[5..], &v[..2]), None, "starts before the frame");
        assert_eq!(range_in(&v[2..], &v[4..8]), Some(2..6));
    }
}
