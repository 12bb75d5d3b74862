//! What a run owns on a shared server, and nothing else: the exact names it writes
//! (`key_names`), the check before its first write that none of them is the user's and the
//! removal of exactly those names afterwards (`claim`), and the marker that lets a later run
//! recognise what an interrupted one left (`marker`). Every backend's claim goes through here.

pub(in crate::tier) mod claim;
pub mod key_names;
pub mod marker;
