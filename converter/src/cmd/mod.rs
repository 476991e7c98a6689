//! One module per subcommand; each parses its own flags and returns the process exit code.

pub mod convert;
pub mod exec;
pub mod inspect;
pub mod run;
