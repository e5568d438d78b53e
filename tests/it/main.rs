//! Integration tests: the real binary against the real simulator over loopback HTTP.
