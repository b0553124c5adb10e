//! kycd-server
