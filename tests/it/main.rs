//! Integration tests: the real binary against the real simulator over loopback HTTP.

mod architecture;
mod bad_answers;
mod bulk;
mod check;
mod cli;
mod common;
mod config;
mod conformance;
mod docs;
mod edges;
mod examples;
mod hostile;
mod journal;
mod library;
mod modules;
mod real_clients;
mod reliability;
mod repl;
mod report;
mod secrets;
mod sim_access;
mod sim_api;
mod tls;
mod undo;
mod validation;
mod vendors;
