//! End-to-end tests of the `vault` binary and the public library API.
