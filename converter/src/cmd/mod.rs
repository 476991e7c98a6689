//! One module per subcommand; each parses its own flags and returns the process exit code.

pub mod exec;
pub mod serve;
pub mod web_site;
