//! A stage of the request pipeline.
//!
//! Threaded stages (Prep, Sync) implement `process_request` by queueing the
//! request for their own thread; synchronous stages (Final) do the work
//! right away on the caller's thread. `shutdown` drains what is queued,
//! stops the stage and then shuts down the next one, so a shutdown moves
//! down the chain in order.
//!
//! Mirrors: `org.apache.zookeeper.server.RequestProcessor`.

use super::request::Request;

/// One stage of the processor chain.
pub trait RequestProcessor: Send {
    /// Hands a request to this stage.
    fn process_request(&mut self, request: Request);
    /// Finishes queued work, stops this stage, then the next.
    fn shutdown(&mut self);
}
